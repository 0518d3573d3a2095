package picket.testkit

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import java.time.Instant

/**
 * Writes `<prefix><n>` (a key never written before, `n` counting from 0) about once a millisecond through [write],
 * one at a time, until [stop], and records each outcome: to check a failover against (which acknowledged writes are
 * on the new master, how long a write waited, what callers were told). The loop runs in [scope] on
 * [Dispatchers.Default], so that the timestamps of several loops include the same dispatch latency.
 *
 * ```kotlin
 * coroutineScope {
 *     val loop = WriteLoop("w:", this) { key -> client.set(key, "1") }
 *     topology.failover("orders")
 *     val writes = loop.stop()
 *     writes.filter { it.acknowledged }.map { it.key }  // check these on the new master
 * }
 * ```
 *
 * Every exception [write] throws is recorded as the write's [Write.error] and the loop goes on; so is a
 * [CancellationException] while the loop itself is not cancelled (a client leaking a cancellation to a caller that
 * was not cancelled), instead of ending the loop silently. Needs `kotlinx-coroutines-core` on the classpath (an
 * optional dependency of the test kit).
 */
public class WriteLoop(
    /** The prefix of every key this loop writes. */
    public val prefix: String,
    scope: CoroutineScope,
    private val write: suspend (key: String) -> Unit,
) {
    /** One write and its outcome. */
    public class Write(
        /** The write's number, from 0. */
        public val n: Int,
        /** The key written: the loop's prefix and [n]. */
        public val key: String,
        /** When the write was issued, on the wall clock (to compare with an event's time). */
        public val issued: Instant,
        /** [System.nanoTime] when the write was issued. */
        public val issuedNanos: Long,
        /** [System.nanoTime] when the caller got the acknowledgement or the error. */
        public val doneNanos: Long,
        /** What the write threw, or null if it was acknowledged. */
        public val error: Throwable?,
    ) {
        /** Whether the write returned without an error. */
        public val acknowledged: Boolean get() = error == null

        /** How long the caller waited for the outcome, in whole milliseconds. */
        public val millis: Long get() = (doneNanos - issuedNanos) / NANOS_PER_MILLI
    }

    // Appended by the loop's coroutine only; read by anyone through a copy.
    private val records = ArrayList<Write>(INITIAL_CAPACITY)

    /** Every write recorded so far, in order: a copy, safe to read while the loop runs. */
    public val writes: List<Write> get() = synchronized(records) { records.toList() }

    /** [System.nanoTime] when the write in flight was issued, or 0 between writes. */
    @Volatile private var inFlightSince = 0L

    /** How long the write in flight when the loop was stopped had been waiting, in nanoseconds (0 if none). */
    @Volatile
    public var pendingAtStop: Long = 0L
        private set

    private val job: Job =
        scope.launch(Dispatchers.Default) {
            var n = 0
            while (isActive) {
                val number = n++
                val key = "$prefix$number"
                val issued = Instant.now()
                val start = System.nanoTime()
                inFlightSince = start
                val error =
                    try {
                        write(key)
                        null
                    } catch (e: CancellationException) {
                        if (!isActive) throw e
                        e
                    } catch (
                        @Suppress("TooGenericExceptionCaught") e: Exception,
                    ) {
                        e
                    }
                inFlightSince = 0L
                val record = Write(number, key, issued, start, System.nanoTime(), error)
                synchronized(records) { records += record }
                delay(1)
            }
        }

    /** Stops the loop (a write in flight is cancelled and not recorded) and returns every recorded write. */
    public suspend fun stop(): List<Write> {
        val pending = inFlightSince
        val stopped = System.nanoTime()
        job.cancelAndJoin()
        if (pending != 0L) pendingAtStop = stopped - pending
        return writes
    }

    private companion object {
        const val INITIAL_CAPACITY = 32_768
        const val NANOS_PER_MILLI = 1_000_000L
    }
}
