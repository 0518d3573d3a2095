package picket.lock.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import picket.lock.LockLease
import picket.lock.LockLostException
import picket.lock.NotLockOwnerException

/**
 * Runs [block] with a watchdog that extends [lease] (through [extend]) every third of its hold time and cancels the
 * block with [LockLostException] when it is lost: an extension refused, or the hold time passed without one
 * succeeding.
 */
internal suspend fun <T> guarded(
    lease: LockLease,
    extend: suspend (LockLease) -> LockLease,
    block: suspend (LockLease) -> T,
): T =
    coroutineScope {
        val work = async { block(lease) }
        val dog =
            launch {
                val lost = watch(lease, extend)
                work.cancel(LostCancellation(lost))
            }
        try {
            work.await()
        } catch (e: LostCancellation) {
            throw e.lost
        } catch (e: CancellationException) {
            (e.cause as? LockLostException)?.let { throw it }
            throw e
        } finally {
            dog.cancel()
        }
    }

/**
 * Extends [lease] every third of its hold time; returns why it was lost. Its own bound is measured from when each
 * extension was sent, on the local monotonic clock.
 */
private suspend fun watch(
    lease: LockLease,
    extend: suspend (LockLease) -> LockLease,
): LockLostException {
    val hold = lease.holdFor.toMillis()
    var validUntil = System.nanoTime() + lease.holdFor.toNanos()
    var current = lease
    while (true) {
        delay((hold / THIRDS).coerceAtLeast(1))
        val sentAt = System.nanoTime()
        try {
            val extended = withTimeoutOrNull((hold / THIRDS).coerceAtLeast(1)) { extend(current) }
            if (extended != null) {
                current = extended
                validUntil = sentAt + lease.holdFor.toNanos()
            }
        } catch (e: LockLostException) {
            return e
        } catch (e: NotLockOwnerException) {
            return LockLostException(lease.name, "another owner took it over", e)
        } catch (e: CancellationException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            if (System.nanoTime() > validUntil) {
                return LockLostException(lease.name, "not extended within its hold time: ${e.message}", e)
            }
        }
        if (System.nanoTime() > validUntil) {
            return LockLostException(lease.name, "not extended within its hold time of $hold ms")
        }
    }
}

/** Carries the loss into the cancelled block's coroutine. */
private class LostCancellation(
    val lost: LockLostException,
) : CancellationException(lost.message) {
    init {
        initCause(lost)
    }
}

/** The watchdog extends a lease this many times per hold time. */
private const val THIRDS = 3
