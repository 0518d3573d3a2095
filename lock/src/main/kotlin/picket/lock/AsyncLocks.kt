@file:OptIn(InternalPicketApi::class)

package picket.lock

import kotlinx.coroutines.future.await
import picket.core.InternalPicketApi
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionStage
import java.util.function.Function

/**
 * The future form of [Locks], for Java callers that compose futures: [Locks.async]. Each method is the Kotlin member
 * of the same name, started at once; its future completes with the result or the same typed error. Cancelling a
 * future cancels what it waits for (a `withLock` whose block had started releases the lock first).
 *
 * ```java
 * locks.async().withLock("invoice:42", Duration.ofSeconds(10), Duration.ofSeconds(2),
 *         lease -> writeInvoiceAsync(lease.getFencingToken()))
 *     .thenAccept(written -> log.info("written: {}", written));
 * ```
 *
 * Callbacks run on the thread that completes the future (a Lettuce or Picket thread): hand long work to an executor
 * of your own (`thenApplyAsync(fn, executor)`), and never wait for another Picket call there.
 */
public class AsyncLocks internal constructor(
    private val locks: Locks,
) {
    private val java = locks.javaCalls

    /**
     * [Locks.acquire]: acquires [name] for [holdFor], waiting at most [waitFor] (0: exactly one attempt); gives null
     * if it stayed held.
     */
    public fun acquire(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
    ): CompletableFuture<LockLease?> = java.async { locks.acquire(name, holdFor, waitFor) }

    /** [Locks.release]: true if [lease] was held and is now free, false if it had already expired. */
    public fun release(lease: LockLease): CompletableFuture<Boolean> = java.async { locks.release(lease) }

    /** [Locks.extend]: extends [lease] to [holdFor] (its own hold time if not given) from now; gives the new lease. */
    @JvmOverloads
    public fun extend(
        lease: LockLease,
        holdFor: Duration = lease.holdFor,
    ): CompletableFuture<LockLease> = java.async { locks.extend(lease, holdFor) }

    /** [Locks.holder]: who holds [name] now, or null if it is free. */
    public fun holder(name: String): CompletableFuture<LockHolder?> = java.async { locks.holder(name) }

    /**
     * [Locks.withLock]: acquires [name] (for [holdFor], waiting at most [waitFor]), calls [block] with the lease and
     * holds the lock until the stage it returns completes, then releases it; the future gives the stage's result. The
     * watchdog extends the lease while the stage is pending; when the lease is lost, the stage is cancelled (if it is
     * a `CompletableFuture`) and the future fails with [LockLostException]. [block] is called on a Picket thread and
     * must return at once (start the work, return its stage).
     */
    public fun <T> withLock(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
        block: Function<LockLease, CompletionStage<T>>,
    ): CompletableFuture<T> =
        java.async { locks.withLock(name, holdFor, waitFor) { lease -> block.apply(lease).await() } }

    /**
     * [Locks.withLockOrNull]: [withLock], or null when [name] could not be acquired within [waitFor]. A stage that
     * completes with null cannot be told from "not acquired": complete it with a value.
     */
    public fun <T : Any> withLockOrNull(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
        block: Function<LockLease, CompletionStage<T>>,
    ): CompletableFuture<T?> =
        java.async { locks.withLockOrNull(name, holdFor, waitFor) { lease -> block.apply(lease).await() } }
}
