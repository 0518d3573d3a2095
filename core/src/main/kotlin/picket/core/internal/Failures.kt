package picket.core.internal

import kotlinx.coroutines.CancellationException
import picket.core.InternalPicketApi

/**
 * For Picket's own modules: runs [block]; a failure of it, unless a cancellation (which ends the caller and is
 * rethrown), is given to [onFailure], whose result stands for the block's. For background work whose failure is
 * reported and then passed over: a check off the caller's path, a re-validation, an epoch asked for.
 *
 * ```kotlin
 * val epoch = unlessCancelled({ e -> log.debug { "no epoch: ${e.message}" }; null }) { askEpoch() }
 * ```
 */
@InternalPicketApi
public inline fun <T> unlessCancelled(
    onFailure: (Exception) -> T,
    block: () -> T,
): T =
    try {
        block()
    } catch (e: CancellationException) {
        throw e
    } catch (
        @Suppress("TooGenericExceptionCaught") e: Exception,
    ) {
        onFailure(e)
    }
