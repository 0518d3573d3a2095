package picket.core.internal.java

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.locks.LockSupport
import kotlin.coroutines.CoroutineContext

/**
 * The dispatcher of one Java blocking call: the coroutine's continuations are queued here and run by the calling
 * thread, which waits in [runUntilDone] between them. So the whole call (resolution, the user's block, the
 * durability wait) runs on the caller's thread: its ThreadLocals are visible, no pool caps how many calls run at once,
 * and a virtual thread waiting here unmounts (it parks; nothing waits inside `synchronized`).
 *
 * Most calls never dispatch: started undispatched, they complete without suspending, and cost this loop a queue
 * and a flag. Once the call is over ([finish]), anything still dispatched here (a continuation the call left behind)
 * runs on `Dispatchers.Default`, so that nothing is lost after the caller has gone.
 */
internal class CallerLoop : CoroutineDispatcher() {
    private val owner = Thread.currentThread()
    private val tasks = ConcurrentLinkedQueue<Runnable>()

    @Volatile
    private var finished = false

    override fun dispatch(
        context: CoroutineContext,
        block: Runnable,
    ) {
        if (finished) return Dispatchers.Default.dispatch(context, block)
        tasks.add(block)
        // finish() may have drained the queue between the check and the add: whoever removes the task runs it.
        if (finished && tasks.remove(block)) return Dispatchers.Default.dispatch(context, block)
        LockSupport.unpark(owner)
    }

    /**
     * Runs [call]'s continuations on this thread until it completes. An interrupt cancels the call, which is still
     * run to its end here (cancellation is cooperative); the interrupt is returned, the thread's flag cleared.
     */
    fun runUntilDone(call: Job): InterruptedException? {
        if (call.isCompleted) return null
        val wake = call.invokeOnCompletion { LockSupport.unpark(owner) }
        var interrupt: InterruptedException? = null
        try {
            while (true) {
                val task = tasks.poll()
                when {
                    task != null -> task.run()
                    call.isCompleted -> break
                    Thread.interrupted() -> interrupt = interrupt ?: cancelled(call)
                    else -> LockSupport.park(this)
                }
            }
        } finally {
            wake.dispose()
        }
        return interrupt
    }

    /** Ends the loop: what is still queued, and whatever comes later, runs on `Dispatchers.Default`. */
    fun finish() {
        finished = true
        while (true) {
            val left = tasks.poll() ?: return
            Dispatchers.Default.dispatch(Dispatchers.Default, left)
        }
    }

    override fun toString(): String = "CallerLoop(${owner.name})"

    private fun cancelled(call: Job): InterruptedException =
        InterruptedException("the calling thread was interrupted").also {
            call.cancel(kotlinx.coroutines.CancellationException(it.message, it))
        }
}
