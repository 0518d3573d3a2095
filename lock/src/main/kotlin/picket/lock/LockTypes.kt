package picket.lock

import picket.core.Durability
import picket.core.InvalidSpecException
import picket.core.PicketException
import java.time.Duration
import java.time.Instant

/**
 * A lock held: its [name], the [owner] token that proves it (random per acquisition), the [fencingToken] a
 * protected resource can compare, and its expiry as the server computed it.
 *
 * @property fencingToken strictly increasing per lock name, also across failovers: Sentinel's config-epoch of the
 *   master that granted it in the high bits (`epoch shl 40`), a per-name counter on that master in the low 40.
 * @property serverTime the master's clock (`TIME`) when it granted or last extended the lease.
 * @property holdFor how long the lease lasts from [serverTime] unless extended.
 */
public data class LockLease(
    public val name: String,
    public val owner: String,
    public val fencingToken: Long,
    public val serverTime: Instant,
    public val holdFor: Duration,
) {
    /** When the lease expires, by the master's clock, unless extended. */
    public val expiresAt: Instant get() = serverTime.plus(holdFor)

    // The owner token is a secret of the holder: shown shortened.
    override fun toString(): String =
        "LockLease($name, owner=${owner.take(OWNER_SHOWN)}…, fencingToken=$fencingToken, expiresAt=$expiresAt)"

    private companion object {
        const val OWNER_SHOWN = 8
    }
}

/** Who holds a lock now, as [Locks.holder] sees it. */
public data class LockHolder(
    public val name: String,
    public val fencingToken: Long,
    /** How long the lease lasts unless extended, by the server's count. */
    public val remaining: Duration,
    /** Waiters queued for the lock, some of which may have stopped renewing their place (their process died). */
    public val queued: Int = 0,
)

/**
 * How [Locks] keys its locks, waits and protects blocks.
 *
 * @property prefix put before every key and channel; a hash tag (`{locks}:`) is allowed. See lock/README.md for the
 *   key layout.
 * @property watchdog whether [Locks.withLock] extends the lease while the block runs (every third of the hold
 *   time) and stops the block with [LockLostException] when it cannot: a coroutine block is cancelled, a Java block
 *   of [BlockingLocks.withLock] interrupted on its thread.
 * @property pollInterval the longest a waiter sleeps between two attempts, each of which renews its place in the
 *   lock's queue (a release hands the lock to the first waiter at once, through pub/sub; a poll finds a hand-over
 *   whose message was missed); a place not renewed for 3 intervals is given up. The sleep is also bounded by the
 *   lock's expiry.
 * @property acquireDurability confirmation of each acquisition by the replicas (`WAIT`) before the lease is handed
 *   out; [Durability.None] by default.
 * @throws InvalidSpecException if [pollInterval] is not positive.
 */
public data class LockOptions
    @JvmOverloads
    constructor(
        public val prefix: String = DEFAULT_PREFIX,
        public val watchdog: Boolean = true,
        public val pollInterval: Duration = Duration.ofMillis(DEFAULT_POLL_MS),
        public val acquireDurability: Durability = Durability.None,
    ) {
        init {
            if (pollInterval.isNegative || pollInterval.isZero) {
                throw InvalidSpecException("lock pollInterval is $pollInterval, must be > 0")
            }
        }

        /** These options with [prefix]; for Java, which has no `copy` (`new LockOptions().acquireDurability(…)`). */
        public fun prefix(prefix: String): LockOptions = copy(prefix = prefix)

        /** These options with the watchdog on or off. */
        public fun watchdog(on: Boolean): LockOptions = copy(watchdog = on)

        /** These options with [interval] as the poll interval. @throws InvalidSpecException if not positive. */
        public fun pollInterval(interval: Duration): LockOptions = copy(pollInterval = interval)

        /** These options with each acquisition confirmed by the replicas as [durability] says. */
        public fun acquireDurability(durability: Durability): LockOptions = copy(acquireDurability = durability)

        public companion object {
            /** `picket:lock:`. */
            public const val DEFAULT_PREFIX: String = "picket:lock:"
            private const val DEFAULT_POLL_MS = 500L
        }
    }

/** The lock [name] could not be acquired within [waited]; it was held by another owner. */
public class LockNotAcquiredException(
    public val name: String,
    public val waited: Duration,
) : PicketException("lock '$name' not acquired within ${waited.toMillis()} ms: held by another owner")

/**
 * The lease on [name] was lost ([reason]): it expired without being extended, or was deleted or taken over. A
 * block protected by it is cancelled with this exception (a Java block interrupted, what it threw then suppressed in
 * this); at release it says the block may have run unprotected.
 */
public class LockLostException(
    public val name: String,
    public val reason: String,
    cause: Throwable? = null,
) : PicketException("lock '$name' lost: $reason", cause)

/**
 * [name] was not tried: the master was just switched to and Sentinel's config-epoch of it stayed unknown for
 * [waited]. A fencing token must be above every token of the old master, which only the new epoch guarantees, so
 * no lease is granted without it; the epoch is known once the sentinels confirm the switch.
 */
public class FencingEpochUnknownException(
    public val name: String,
    public val waited: Duration,
) : PicketException(
        "lock '$name' not acquired: the new master's config-epoch, which its fencing token needs, stayed unknown for " +
            "${waited.toMillis()} ms",
    )

/** A release or extension of [name] by someone who does not hold it; refused, nothing changed. */
public class NotLockOwnerException(
    public val name: String,
    action: String,
) : PicketException("lock '$name' is held by another owner: $action refused")
