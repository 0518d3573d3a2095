package picket.sentinel

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.ConnSpec
import java.time.Instant
import java.util.concurrent.CopyOnWriteArrayList

/** Writes `w:<n>` about once a millisecond through Picket and records each outcome, to check a failover against. */
class WriteLoop(
    private val picket: Picket,
    private val spec: ConnSpec,
    scope: CoroutineScope,
    /** Keys are the prefix and the write's number. */
    val prefix: String = "w:",
) {
    class Write(
        val n: Int,
        val issued: Instant,
        val millis: Long,
        val error: Throwable?,
    ) {
        val acknowledged: Boolean get() = error == null
    }

    val writes = CopyOnWriteArrayList<Write>()

    private val job: Job =
        scope.launch(Dispatchers.Default) {
            var n = 0
            while (isActive) {
                val key = n++
                val issued = Instant.now()
                val start = System.nanoTime()
                val error =
                    try {
                        picket.withConn(spec) { set("$prefix$key", "$key") }
                        null
                    } catch (e: kotlinx.coroutines.CancellationException) {
                        // The loop's own stop, or a cancellation leaked to a caller that was not cancelled: that one
                        // is recorded (and fails the specs' error-type checks) instead of ending the loop silently.
                        if (!isActive) throw e
                        e
                    } catch (
                        @Suppress("TooGenericExceptionCaught") e: Exception,
                    ) {
                        e
                    }
                writes += Write(key, issued, (System.nanoTime() - start) / 1_000_000, error)
                delay(1)
            }
        }

    suspend fun stop() = job.cancelAndJoin()
}
