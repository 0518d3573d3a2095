package picket.core.internal.java

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock
import kotlin.coroutines.CoroutineContext

/**
 * The dispatcher of one Java blocking call: the coroutine's continuations are queued here and run by the calling
 * thread, which waits in [runUntilDone] between them. So the whole call (resolution, the user's block, the
 * durability wait) runs on the caller's thread: its ThreadLocals are visible, no pool caps how many calls run at once,
 * and a virtual thread waiting here unmounts (a `LinkedBlockingQueue` parks; nothing waits inside `synchronized`).
 *
 * Once the call is over ([finish]), anything still dispatched here (a continuation the call left behind) runs on
 * `Dispatchers.Default`, so that nothing is lost after the caller has gone.
 */
internal class CallerLoop : CoroutineDispatcher() {
    private val tasks = LinkedBlockingQueue<Runnable>()
    private val lock = ReentrantLock()
    private var finished = false
    private val owner = Thread.currentThread().name

    override fun dispatch(
        context: CoroutineContext,
        block: Runnable,
    ) {
        val queued = lock.withLock { if (finished) false else tasks.add(block) }
        if (!queued) Dispatchers.Default.dispatch(context, block)
    }

    /**
     * Runs [call]'s continuations on this thread until it completes. An interrupt cancels the call, which is still
     * run to its end here (cancellation is cooperative); the interrupt is returned, the thread's flag cleared.
     */
    fun runUntilDone(call: Job): InterruptedException? {
        if (call.isCompleted) return null
        call.invokeOnCompletion { dispatch(Dispatchers.Default, NOTHING) }
        var interrupt: InterruptedException? = null
        while (!call.isCompleted) {
            val task =
                try {
                    tasks.take()
                } catch (e: InterruptedException) {
                    if (interrupt == null) call.cancel(CancellationException("the calling thread was interrupted", e))
                    interrupt = interrupt ?: e
                    continue
                }
            task.run()
        }
        return interrupt
    }

    /** Ends the loop: what is still queued, and whatever comes later, runs on `Dispatchers.Default`. */
    fun finish() {
        val left =
            lock.withLock {
                finished = true
                ArrayList<Runnable>().also { tasks.drainTo(it) }
            }
        left.filter { it !== NOTHING }.forEach { Dispatchers.Default.dispatch(Dispatchers.Default, it) }
    }

    override fun toString(): String = "CallerLoop($owner)"

    private companion object {
        val NOTHING = Runnable {}
    }
}
