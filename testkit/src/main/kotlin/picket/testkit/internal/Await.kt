package picket.testkit.internal

import picket.testkit.TopologyException
import java.time.Duration

private const val POLL_MILLIS = 25L

/**
 * Polls [check] until it returns null (the state is reached) or [timeout] passes; [check] returns why the state
 * is not reached yet, and the last reason ends the exception's message. An exception thrown by [check] counts as
 * a reason, not as a failure.
 */
internal fun awaitState(
    what: String,
    timeout: Duration,
    check: () -> String?,
) {
    val deadline = System.nanoTime() + timeout.toNanos()
    var reason: String?
    while (true) {
        reason =
            try {
                check()
            } catch (e: TopologyException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: RuntimeException,
            ) {
                "${e::class.simpleName}: ${e.message}"
            }
        if (reason == null) return
        if (System.nanoTime() > deadline) break
        Thread.sleep(POLL_MILLIS)
    }
    throw TopologyException("timed out after ${timeout.toMillis()} ms waiting for $what: $reason")
}
