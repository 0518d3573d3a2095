package picket.core.internal.connections

import io.netty.util.HashedWheelTimer
import io.netty.util.concurrent.DefaultThreadFactory
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InternalPicketApi
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

/** How often the timer of [commandTimer] looks at its deadlines: a command's timeout fires at most this late. */
internal const val COMMAND_TIMER_TICK_MS: Long = 10

/**
 * The timer Lettuce fires command timeouts from (`ClientResources.timer`), ticking every [COMMAND_TIMER_TICK_MS].
 *
 * Lettuce puts each command's timeout on its resources' timer, a Netty [HashedWheelTimer] that by default ticks
 * every 100 ms: a deadline is noticed at the first tick after it, so every suspend or future caller of a hung node
 * failed up to 100 ms after its timeout (1.04-1.12 s for a 1 s timeout). Blocking callers were not late because
 * Lettuce's synchronous API waits for the reply with the timeout itself. A 10 ms tick costs a timer thread 100
 * wake-ups a second.
 *
 * Lettuce does not stop a timer it was given: whoever builds the resources with it stops it after shutting them
 * down.
 */
internal fun commandTimer(): HashedWheelTimer =
    HashedWheelTimer(DefaultThreadFactory("picket-timer", true), COMMAND_TIMER_TICK_MS, TimeUnit.MILLISECONDS)

/**
 * Runs [block] for at most [timeout]; past it, a [TimeoutException] naming [what] — not a cancellation, which
 * callers would mistake for their own.
 */
@InternalPicketApi
public suspend fun <T> bounded(
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
