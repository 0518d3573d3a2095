package picket.lock.internal

import picket.lock.LockLease
import picket.lock.LockLostException
import java.util.concurrent.locks.ReentrantLock
import java.util.function.Function
import kotlin.concurrent.withLock

/**
 * Runs the Java [block] on the calling thread while the [watched] watchdog (on other threads) extends [lease]; when
 * the lease is lost, the watchdog interrupts this thread, and this throws [LockLostException] with whatever the block
 * threw meanwhile (its `InterruptedException`, a `PicketInterruptedException` from a Redis call it was in) suppressed
 * in it. A block that returns after the loss has its result dropped: it may have run unprotected.
 *
 * The interrupt is race-free ([JavaGuard]): it can reach the thread only while the block runs, and afterwards the
 * flag is cleared only if the interrupt was the watchdog's, so the caller's own interrupt is kept. One case cannot
 * be told apart, since a thread's interrupts are a flag and not a count: the caller's interrupt arriving after the
 * watchdog's, while the block runs, is cleared with it; the call throws [LockLostException] either way.
 */
internal suspend fun <T> guardedOnThisThread(
    lease: LockLease,
    extend: suspend (LockLease) -> LockLease,
    block: Function<LockLease, T>,
): T {
    val guard = JavaGuard()
    return watched(lease, extend, guard::lost) {
        guard.start()
        val outcome =
            try {
                Result.success(block.apply(lease))
            } catch (
                // Whatever the block threw is rethrown below, or suppressed in the loss that caused it.
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                Result.failure(e)
            }
        val lost = guard.finish()
        if (lost != null) {
            outcome.exceptionOrNull()?.let { lost.addSuppressed(it) }
            throw lost
        }
        outcome.getOrThrow()
    }
}

/**
 * The states of one Java block under the watchdog, changed under one lock: waiting to start, running (the only state
 * in which the watchdog may interrupt the block's thread), lost (the watchdog's loss recorded, the thread interrupted
 * if it was not already) and done. Whichever comes first of the block's end and the watchdog's loss decides: a loss
 * after the block ended is left to the release, which finds it.
 */
internal class JavaGuard {
    private val lock = ReentrantLock()
    private var state = State.WAITING
    private var thread: Thread? = null
    private var loss: LockLostException? = null

    /** Whether this guard set the thread's interrupt flag (it was not set already by someone else). */
    private var interrupted = false

    /**
     * Called on the block's thread just before the block: from now on a loss interrupts this thread.
     *
     * @throws LockLostException if the lease was lost before the block started; the block does not run.
     */
    fun start() {
        lock.withLock {
            loss?.let { throw it }
            thread = Thread.currentThread()
            state = State.RUNNING
        }
    }

    /** Called by the watchdog when the lease is lost: interrupts the block's thread if the block is running. */
    fun lost(lost: LockLostException) {
        lock.withLock {
            when (state) {
                State.WAITING -> {
                    loss = lost
                    state = State.LOST
                }

                State.RUNNING -> {
                    loss = lost
                    state = State.LOST
                    val running = thread!!
                    if (!running.isInterrupted) {
                        running.interrupt()
                        interrupted = true
                    }
                }

                State.LOST, State.DONE -> {
                    Unit
                }
            }
        }
    }

    /**
     * Called on the block's thread just after the block: no interrupt comes after this. Returns the loss if the
     * watchdog recorded one while the block ran, having cleared the interrupt flag if the watchdog set it.
     */
    fun finish(): LockLostException? =
        lock.withLock {
            val lost = if (state == State.LOST) loss else null
            state = State.DONE
            // The watchdog's interrupt, not the caller's: cleared (the block may have consumed it already).
            if (interrupted) Thread.interrupted()
            lost
        }

    private enum class State { WAITING, RUNNING, LOST, DONE }
}
