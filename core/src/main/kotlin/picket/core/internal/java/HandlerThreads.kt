package picket.core.internal.java

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.asCoroutineDispatcher
import java.util.concurrent.SynchronousQueue
import java.util.concurrent.ThreadFactory
import java.util.concurrent.ThreadPoolExecutor
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * The threads a Picket instance runs Java code on that no caller's thread waits for (the block of an async
 * transaction; the handlers modules call), when the user gave no executor of their own: one per handler running at
 * the time, named `picket-handler-N`, kept [KEEP_ALIVE_SECONDS] when idle, and all ended by [shutdown] — never the
 * shared `Dispatchers.IO` pool, whose threads would outlive the instance and which caps them at 64.
 */
internal class HandlerThreads {
    private val count = AtomicInteger()
    private val executor =
        ThreadPoolExecutor(
            0,
            Int.MAX_VALUE,
            KEEP_ALIVE_SECONDS,
            TimeUnit.SECONDS,
            SynchronousQueue(),
            ThreadFactory { task ->
                Thread(task, "picket-handler-${count.incrementAndGet()}").apply { isDaemon = true }
            },
        )

    /** Where handlers run; cancellation interrupts the thread (`runInterruptible`). */
    val dispatcher: CoroutineDispatcher = executor.asCoroutineDispatcher()

    /**
     * Interrupts the blocks still running and waits at most [seconds] for every thread to end. Returns false if a
     * block ignored the interruption and still runs.
     */
    fun shutdown(seconds: Long): Boolean {
        executor.shutdownNow()
        return executor.awaitTermination(seconds, TimeUnit.SECONDS)
    }

    private companion object {
        const val KEEP_ALIVE_SECONDS = 30L
    }
}
