package picket.core.internal.execution

import kotlinx.coroutines.CancellationException
import picket.core.PicketClosedException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException

/**
 * The result of the future [start] gives, awaited on the caller's thread, for the Java forms. A failure once the
 * instance is [closed] (the block interrupted, its connection closed, its coroutine cancelled) is
 * [PicketClosedException], with the failure suppressed in it.
 */
internal fun <T> joined(
    closed: () -> Boolean,
    start: () -> CompletableFuture<T>,
): T {
    fun closedOr(error: Throwable): Throwable =
        if (closed() && error !is PicketClosedException) {
            PicketClosedException().apply { addSuppressed(error) }
        } else {
            error
        }
    return try {
        start().join()
    } catch (e: CompletionException) {
        throw closedOr(e.cause ?: e)
    } catch (e: CancellationException) {
        throw closedOr(e)
    }
}
