package picket.bench

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch

/**
 * Writes `<prefix><n>` (a key never written before) about once a millisecond through [write], one at a time, and
 * records for each write when it was issued, when the caller got its answer, and the error if any. Every client
 * measured gets its own loop with its own prefix; all loops run on [Dispatchers.Default], so their timestamps
 * include the same dispatch latency.
 */
class WriteLoop(
    val prefix: String,
    scope: CoroutineScope,
    private val write: suspend (key: String) -> Unit,
) {
    class Write(
        val key: String,
        /** [System.nanoTime] when the write was issued. */
        val issued: Long,
        /** [System.nanoTime] when the caller got the acknowledgement or the error. */
        val done: Long,
        /** The error's class, or null if acknowledged. */
        val error: String?,
    ) {
        val acknowledged: Boolean get() = error == null
    }

    // Written only by the loop's coroutine; read after stop(), whose join orders the reads after the writes.
    private val records = ArrayList<Write>(INITIAL_CAPACITY)

    /** One message for each error class seen, to show what callers were told. */
    val sampleErrors = java.util.concurrent.ConcurrentHashMap<String, String>()

    /** [System.nanoTime] when the write in flight was issued, or 0 between writes. */
    @Volatile private var inFlightSince = 0L

    /** How long the write in flight when the loop was stopped had been waiting, in nanoseconds (0 if none). */
    var pendingAtStop = 0L
        private set

    private val job: Job =
        scope.launch(Dispatchers.Default) {
            var n = 0
            while (isActive) {
                val key = "$prefix${n++}"
                val issued = System.nanoTime()
                inFlightSince = issued
                val error =
                    try {
                        write(key)
                        null
                    } catch (e: CancellationException) {
                        // The loop's own stop, or a client leaking a cancellation to a caller that was not cancelled:
                        // that one is recorded as an error, not allowed to end the loop silently.
                        if (!isActive) throw e
                        sampleErrors.putIfAbsent("CancellationException", e.message.orEmpty().take(MESSAGE_LENGTH))
                        "CancellationException"
                    } catch (
                        @Suppress("TooGenericExceptionCaught") e: Exception,
                    ) {
                        (e::class.simpleName ?: e::class.java.name).also { type ->
                            sampleErrors.putIfAbsent(type, e.message.orEmpty().take(MESSAGE_LENGTH))
                        }
                    }
                inFlightSince = 0L
                records += Write(key, issued, System.nanoTime(), error)
                delay(1)
            }
        }

    /** Stops the loop (a write in flight is cancelled and not recorded) and returns every recorded write. */
    suspend fun stop(): List<Write> {
        val pending = inFlightSince
        val stopped = System.nanoTime()
        job.cancelAndJoin()
        if (pending != 0L) pendingAtStop = stopped - pending
        return records.toList()
    }

    private companion object {
        const val INITIAL_CAPACITY = 32_768
        const val MESSAGE_LENGTH = 300
    }
}
