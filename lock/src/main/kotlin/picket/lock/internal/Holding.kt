package picket.lock.internal

import io.lettuce.core.RedisException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.withContext
import picket.core.PicketException
import picket.lock.LockLease
import picket.lock.LockLostException
import picket.lock.NotLockOwnerException
import java.util.function.Function

/**
 * Runs [block] on [lease] (under the [guarded] watchdog if [watchdog]), then releases it through [calls], even when
 * the caller was cancelled. A lease found lost at release makes this throw [LockLostException] (the block's result
 * is dropped: it may have run unprotected), or is attached as suppressed to the block's own exception.
 */
internal suspend fun <T> holding(
    lease: LockLease,
    watchdog: Boolean,
    calls: ScriptCalls,
    block: suspend (LockLease) -> T,
): T = holding(lease, calls) { if (watchdog) guarded(lease, calls::extendAsHeld, block) else block(lease) }

/**
 * Runs the Java [block] on [lease] on the calling thread (under the [guardedOnThisThread] watchdog, which interrupts
 * it when the lease is lost, if [watchdog]), then releases it through [calls] as [holding] does.
 */
internal suspend fun <T> holdingOnThisThread(
    lease: LockLease,
    watchdog: Boolean,
    calls: ScriptCalls,
    block: Function<LockLease, T>,
): T =
    holding(lease, calls) {
        if (watchdog) guardedOnThisThread(lease, calls::extendAsHeld, block) else block.apply(lease)
    }

/** Runs [body], then releases [lease]; see the other [holding]. */
private suspend fun <T> holding(
    lease: LockLease,
    calls: ScriptCalls,
    body: suspend () -> T,
): T {
    val outcome =
        try {
            Result.success(body())
        } catch (
            // Whatever the block threw (cancellation included) is rethrown below, after the release.
            @Suppress("TooGenericExceptionCaught") e: Throwable,
        ) {
            Result.failure(e)
        }
    // Released even when the caller was cancelled: the lock must not stay taken until it expires.
    val lost = withContext(NonCancellable) { releaseAfterBlock(lease, calls) }
    val failure = outcome.exceptionOrNull()
    if (failure != null) {
        if (lost != null && failure !is LockLostException) failure.addSuppressed(lost)
        throw failure
    }
    if (lost != null) throw lost
    return outcome.getOrThrow()
}

/** Releases [lease] after its block; returns why it had been lost, if it had. */
private suspend fun releaseAfterBlock(
    lease: LockLease,
    calls: ScriptCalls,
): LockLostException? =
    try {
        if (calls.release(lease)) null else LockLostException(lease.name, "it had expired when released")
    } catch (e: NotLockOwnerException) {
        LockLostException(lease.name, "another owner held it when released", e)
    } catch (e: PicketException) {
        LockLostException(lease.name, "releasing it failed: ${e.message}", e)
    } catch (e: RedisException) {
        LockLostException(lease.name, "releasing it failed: ${e.message}", e)
    }
