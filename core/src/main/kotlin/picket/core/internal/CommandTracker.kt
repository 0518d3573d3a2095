package picket.core.internal

import java.util.concurrent.atomic.AtomicInteger

/**
 * Counts the commands of one block that completed successfully, so that whoever runs the block can tell whether a
 * failing command was the first of its block: a retry is only safe when nothing ran before it.
 *
 * [RealCommands] counts its suspending commands through [track]; the counter is safe to update from any thread.
 *
 * ## Pitfalls
 * [RealCommands] hands Flow-returning commands over as Lettuce returns them (cold), so they are never counted,
 * although some of them write: `HGETDEL`, `HGETEX`, `XACKDEL`, `XCLAIM`, `XDELEX`, `XREADGROUP`, `ZPOPMIN` and
 * `ZPOPMAX` with a count, and `dispatch`. A block that collected one of those before a failing command still reads
 * `completed == 0`.
 */
internal class CommandTracker {
    private val count = AtomicInteger()

    /** How many tracked calls returned normally so far; a call that threw is not counted. */
    val completed: Int get() = count.get()

    /** Runs [call] and counts it once it has returned; when [call] throws, nothing is counted. */
    inline fun <T> track(call: () -> T): T = call().also { count.incrementAndGet() }
}
