package picket.samples

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.ConnSpec
import picket.core.PicketException
import picket.sentinel.Picket
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger

/** One SET a millisecond through [picket], recording which keys were acknowledged, until [stop]. */
internal class WriteLoop(
    private val picket: Picket,
    private val spec: ConnSpec,
    scope: CoroutineScope,
) {
    private val acknowledged = ConcurrentLinkedQueue<String>()
    private val errors = AtomicInteger()

    /** Why the first write that failed did, if one did. */
    @Volatile
    var firstError: String? = null
        private set
    private val job =
        scope.launch(Dispatchers.Default) {
            var n = 0
            while (isActive) {
                val key = "loop:${n++}"
                try {
                    picket.withConn(spec) { set(key, "1") }
                    acknowledged += key
                } catch (e: PicketException) {
                    // Counted and shown: the demo says how many writes failed, and why the first one did.
                    if (errors.getAndIncrement() == 0) firstError = e.message
                }
                delay(1)
            }
        }

    /** Stops the loop and returns the acknowledged keys and how many writes failed. */
    suspend fun stop(): Pair<List<String>, Int> {
        job.cancelAndJoin()
        return acknowledged.toList() to errors.get()
    }
}
