package picket.core.internal

import picket.core.InternalPicketApi
import java.util.concurrent.atomic.AtomicInteger

/**
 * Counts the commands of one block that completed, so that whoever runs the block can tell whether a failing
 * command was the first of its block: a block may run again without being idempotent only if nothing of it ran.
 *
 * [RealCommands] counts every member through [track]: suspending commands once they return, Flow-returning ones
 * when the flow is handed out (before it is collected — some of them write, such as `HGETDEL` or `XREADGROUP`, so
 * counting them early errs on the safe side). The counter is safe to update from any thread.
 */
@InternalPicketApi
public class CommandTracker {
    private val count = AtomicInteger()

    /** How many tracked calls returned normally so far; a call that threw is not counted. */
    public val completed: Int get() = count.get()

    /** Runs [call] and counts it once it has returned; when [call] throws, nothing is counted. */
    public inline fun <T> track(call: () -> T): T = call().also { record() }

    /** Counts one call. */
    @PublishedApi
    internal fun record() {
        count.incrementAndGet()
    }
}
