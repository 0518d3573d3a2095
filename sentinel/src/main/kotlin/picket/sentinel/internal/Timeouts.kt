package picket.sentinel.internal

import kotlinx.coroutines.withTimeoutOrNull
import java.time.Duration
import java.util.concurrent.TimeoutException

/**
 * Runs [block] for at most [timeout]; past it, a [TimeoutException] naming [what] — not a cancellation, which
 * callers would mistake for their own.
 */
internal suspend fun <T> bounded(
    timeout: Duration,
    what: String,
    block: suspend () -> T,
): T {
    var finished = false
    val result =
        withTimeoutOrNull(timeout.toMillis()) {
            block().also { finished = true }
        }
    if (!finished) throw TimeoutException("$what timed out after ${timeout.toMillis()} ms")
    @Suppress("UNCHECKED_CAST")
    return result as T
}
