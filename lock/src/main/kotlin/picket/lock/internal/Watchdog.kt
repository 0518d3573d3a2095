package picket.lock.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import picket.lock.LockLease
import picket.lock.LockLostException
import picket.lock.NotLockOwnerException

/**
 * Runs [body] while a watchdog extends [lease] (through [extend]) every third of its hold time; when the lease is
 * lost (an extension refused, or the hold time passed without one succeeding), [stop] is told why, once, and is what
 * stops the block: a cancellation for a coroutine ([guarded]), an interrupt for a Java block on its caller's thread
 * (`JavaGuard.kt`). The watchdog runs on `Dispatchers.Default`, never where the block runs, so a block that occupies
 * its thread does not keep it from extending; it stops when [body] returns.
 */
internal suspend fun <T> watched(
    lease: LockLease,
    extend: suspend (LockLease) -> LockLease,
    stop: (LockLostException) -> Unit,
    body: suspend CoroutineScope.() -> T,
): T =
    coroutineScope {
        val dog = launch(Dispatchers.Default) { stop(watch(lease, extend)) }
        try {
            body()
        } finally {
            dog.cancel()
        }
    }

/**
 * Runs the coroutine [block] under the [watched] watchdog, which cancels it with [LockLostException] when [lease] is
 * lost; that exception is then thrown here.
 */
internal suspend fun <T> guarded(
    lease: LockLease,
    extend: suspend (LockLease) -> LockLease,
    block: suspend (LockLease) -> T,
): T =
    coroutineScope {
        val work = async { block(lease) }
        watched(lease, extend, stop = { lost -> work.cancel(LostCancellation(lost)) }) {
            try {
                work.await()
            } catch (e: LostCancellation) {
                throw e.lost
            } catch (e: CancellationException) {
                (e.cause as? LockLostException)?.let { throw it }
                throw e
            }
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
