package picket.lock.internal

import io.lettuce.core.RedisException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.withContext
import picket.core.PicketException
import picket.lock.LockLease
import picket.lock.LockLostException
import picket.lock.NotLockOwnerException

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
): T {
    val outcome =
        try {
            Result.success(if (watchdog) guarded(lease, { calls.extend(it, it.holdFor) }, block) else block(lease))
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
