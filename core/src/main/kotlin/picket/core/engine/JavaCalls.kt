package picket.core.engine

import io.lettuce.core.RedisCommandInterruptedException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.DelicateCoroutinesApi
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.GlobalScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.future.future
import picket.core.InternalPicketApi
import picket.core.PicketClosedException
import picket.core.PicketInterruptedException
import picket.core.internal.java.CallerLoop
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap

/**
 * The one way every module turns a `suspend` member into its two Java forms: [blocking], which runs it on the
 * calling thread and returns its result, and [async], which returns a [CompletableFuture]. The contract, the same
 * in every module:
 * - a blocking call runs wholly on the caller's thread (the coroutine's continuations are queued to it), so a Java
 *   block sees the caller's ThreadLocals and no shared pool limits how many calls run at once;
 * - its waits are interruptible: an interrupt cancels the call and becomes [PicketInterruptedException], the
 *   thread's interrupt flag set again; a virtual thread waiting here unmounts from its carrier;
 * - a failure after the owner closed ([closed]) is [PicketClosedException], the failure suppressed in it.
 *
 * A future's coroutine is a child of [scope], so closing the owner cancels it; a blocking call that waits is
 * cancelled by [cancelSuspended], which the owner calls as it closes.
 */
@InternalPicketApi
public class JavaCalls(
    private val scope: CoroutineScope,
    private val closed: () -> Boolean,
) {
    private val suspended: MutableSet<Job> = ConcurrentHashMap.newKeySet()

    /**
     * Runs [block] on the calling thread until it completes and returns its result, or throws its error (see the
     * class). [what] names the wait in [PicketInterruptedException]'s message.
     */
    public fun <T> blocking(
        what: String,
        block: suspend CoroutineScope.() -> T,
    ): T = blocking({ what }, block)

    /** [blocking], with [what] built only if an interrupt needs it (for names that cost something to build). */
    public fun <T> blocking(
        what: () -> String,
        block: suspend CoroutineScope.() -> T,
    ): T {
        val loop = CallerLoop()

        // Not a child of the owner's scope: most calls complete without suspending, and registering each as a child
        // (then removing it) is a contended write on the scope's job by every calling thread. A call that suspends
        // registers in [suspended] instead, which [cancelSuspended] cancels when the owner closes.
        @OptIn(DelicateCoroutinesApi::class)
        val call = GlobalScope.async(loop, CoroutineStart.UNDISPATCHED, block)
        val interrupt =
            try {
                if (call.isCompleted) null else waitFor(call, loop)
            } finally {
                loop.finish()
            }
        if (interrupt != null) Thread.currentThread().interrupt()
        @OptIn(ExperimentalCoroutinesApi::class)
        val error = call.getCompletionExceptionOrNull() ?: return call.getCompleted()
        throw javaError(what, error, interrupt)
    }

    /**
     * Cancels the blocking calls waiting for something other than a command's reply (a resolution, a parked write,
     * a durability wait): the owner calls it as it closes, after cancelling its own coroutines.
     */
    public fun cancelSuspended() {
        suspended.forEach { it.cancel(CancellationException("closed")) }
    }

    private fun waitFor(
        call: Job,
        loop: CallerLoop,
    ): InterruptedException? {
        suspended.add(call)
        try {
            if (closed()) call.cancel(CancellationException("closed"))
            return loop.runUntilDone(call)
        } finally {
            suspended.remove(call)
        }
    }

    /**
     * Runs [block] as a coroutine of the owner and returns its future; cancelling the future cancels it. Once the
     * owner is closed (before the call, or while it runs) the future fails with [PicketClosedException], not with a
     * cancellation.
     */
    public fun <T> async(block: suspend CoroutineScope.() -> T): CompletableFuture<T> {
        if (closed()) return CompletableFuture.failedFuture(PicketClosedException())
        // ATOMIC: the body starts even if the owner closed in between, so that its catch below types the failure.
        @OptIn(DelicateCoroutinesApi::class)
        return scope.future(start = CoroutineStart.ATOMIC) {
            try {
                block()
            } catch (e: CancellationException) {
                if (closed()) throw PicketClosedException().apply { addSuppressed(e) }
                throw e
            }
        }
    }

    private fun javaError(
        what: () -> String,
        error: Throwable,
        interrupt: InterruptedException?,
    ): Throwable =
        when {
            interrupt != null && error is CancellationException -> {
                PicketInterruptedException(what(), interrupt)
            }

            // A Java block's synchronous command was interrupted; Lettuce set the flag again, as do we.
            error is RedisCommandInterruptedException -> {
                Thread.currentThread().interrupt()
                PicketInterruptedException(what(), error)
            }

            closed() && error !is PicketClosedException -> {
                PicketClosedException().apply { addSuppressed(error) }
            }

            else -> {
                error
            }
        }
}
