@file:OptIn(InternalPicketApi::class)

package picket.lock

import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.PicketInterruptedException
import java.time.Duration
import java.util.function.Function

/**
 * The blocking form of [Locks], for Java and other callers without coroutines: [Locks.blocking]. Each method is the
 * Kotlin member of the same name, run on the calling thread until it returns.
 *
 * ```java
 * long token = locks.blocking().withLock("invoice:42", Duration.ofSeconds(10), Duration.ofSeconds(2),
 *         lease -> writeInvoice(lease.getFencingToken()));
 * ```
 *
 * ## Threads
 * The whole call runs on the caller's thread (the `withLock` block too, so it sees the caller's ThreadLocals). Waits
 * are interruptible: an interrupt cancels the call, which throws [PicketInterruptedException] with the thread's
 * interrupt flag set again (a `withLock` whose block had started releases the lock first).
 *
 * ## The watchdog and a Java block
 * While a [withLock] block runs, the watchdog ([LockOptions.watchdog]) extends the lease every third of its hold time
 * from other threads. When the lease is lost (an extension refused, another owner, the hold time passed without an
 * extension), it interrupts the caller's thread, once, and only while the block runs; the call then throws
 * [LockLostException], with what the block threw meanwhile (its `InterruptedException`, a
 * [PicketInterruptedException] from a Redis call it was in) suppressed in it. The interrupt flag is cleared afterwards
 * if the interrupt was the watchdog's; an interrupt of the caller's own is kept. A block that ignores interrupts runs
 * on, but its result is dropped: the call still throws [LockLostException]. Write blocks that wait interruptibly
 * (Redis calls through Picket, `BlockingQueue.take`, `Thread.sleep`, `CountDownLatch.await`) and that stop when
 * interrupted.
 */
public class BlockingLocks internal constructor(
    private val locks: Locks,
) {
    private val java = locks.javaCalls

    /**
     * [Locks.acquire]: acquires [name] for [holdFor], waiting at most [waitFor] (0: exactly one attempt); null if it
     * stayed held.
     *
     * @throws InvalidSpecException if [name] is blank, [holdFor] is under 1 ms or [waitFor] is negative.
     * @throws FencingEpochUnknownException if the master was just switched to and its epoch stayed unknown.
     */
    public fun acquire(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
    ): LockLease? = java.blocking(what("acquire", name)) { locks.acquire(name, holdFor, waitFor) }

    /**
     * [Locks.release]: true if [lease] was held and is now free, false if it had already expired.
     *
     * @throws NotLockOwnerException if another owner holds the lock now; nothing changes.
     */
    public fun release(lease: LockLease): Boolean = java.blocking(what("release", lease.name)) { locks.release(lease) }

    /**
     * [Locks.extend]: extends [lease] to [holdFor] (its own hold time if not given) from now and returns the extended
     * lease.
     *
     * @throws LockLostException if it is no longer held.
     * @throws NotLockOwnerException if another owner holds the lock now.
     */
    @JvmOverloads
    public fun extend(
        lease: LockLease,
        holdFor: Duration = lease.holdFor,
    ): LockLease = java.blocking(what("extend", lease.name)) { locks.extend(lease, holdFor) }

    /** [Locks.holder]: who holds [name] now, or null if it is free. */
    public fun holder(name: String): LockHolder? = java.blocking(what("holder", name)) { locks.holder(name) }

    /**
     * [Locks.withLock]: runs [block] on the calling thread while holding [name] (acquired for [holdFor], waiting at
     * most [waitFor]) and returns its result; released afterwards. The watchdog extends the lease while the block
     * runs and interrupts it when the lease is lost (see the class).
     *
     * @throws LockNotAcquiredException if [name] stayed held for [waitFor].
     * @throws LockLostException if the lease was lost while the block ran (the block was interrupted), or was found
     *   lost at release.
     */
    public fun <T> withLock(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
        block: Function<LockLease, T>,
    ): T = withLock(name, holdFor, waitFor, locks.options.watchdog, block)

    /** [withLock] with the watchdog on or off ([watchdog]) for this call, whatever [LockOptions.watchdog] says. */
    public fun <T> withLock(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
        watchdog: Boolean,
        block: Function<LockLease, T>,
    ): T =
        java.blocking(what("withLock", name)) {
            @Suppress("UNCHECKED_CAST") // not null: orNull is false, so "not acquired" throws
            locks.withLockOnThisThread(name, holdFor, waitFor, watchdog, orNull = false, block) as T
        }

    /**
     * [Locks.withLockOrNull]: [withLock], or null when [name] could not be acquired within [waitFor]. A block that
     * returns null cannot be told from "not acquired": return a value.
     *
     * @throws LockLostException if the lease was lost while the block ran, or was found lost at release.
     */
    public fun <T : Any> withLockOrNull(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
        block: Function<LockLease, T>,
    ): T? =
        java.blocking(what("withLockOrNull", name)) {
            locks.withLockOnThisThread(name, holdFor, waitFor, locks.options.watchdog, orNull = true, block)
        }

    private fun what(
        call: String,
        name: String,
    ): String = "$call of lock '$name'"
}
