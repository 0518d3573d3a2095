@file:OptIn(InternalPicketApi::class)

package picket.lock

import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.ReadFrom
import picket.core.engine.JavaCalls
import picket.core.internal.javaCalls
import picket.lock.internal.Acquirer
import picket.lock.internal.LockKeys
import picket.lock.internal.ScriptCalls
import picket.lock.internal.WakeUps
import picket.lock.internal.holding
import picket.lock.internal.holdingOnThisThread
import picket.lock.internal.validateLock
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.function.Function

/**
 * Distributed locks on the master of [spec]: leases with an owner token, a fencing token and a server-side expiry;
 * [withLock] with a watchdog; waiting in arrival order in a queue on the server, to which the release script hands
 * the lock over (heard through one pub/sub subscription per [Locks] for the names being waited on), holding no
 * shared connection.
 *
 * ```kotlin
 * Locks(picket, spec).use { locks ->
 *     locks.withLock("invoice:42", holdFor = Duration.ofSeconds(10), waitFor = Duration.ofSeconds(2)) { lease ->
 *         writeInvoice(fencingToken = lease.fencingToken)
 *     }
 * }
 * ```
 *
 * From Java, the same members are on two views: [blocking] (returns the value, on the calling thread) and [async]
 * (returns a `CompletableFuture`):
 *
 * ```java
 * try (Locks locks = new Locks(picket, spec)) {
 *     long token = locks.blocking().withLock("invoice:42", Duration.ofSeconds(10), Duration.ofSeconds(2),
 *             lease -> writeInvoice(lease.getFencingToken()));
 * }
 * ```
 *
 * Not reentrant: a nested [withLock] on a name this coroutine already holds waits for its own lease, like any other
 * waiter, and fails with [LockNotAcquiredException] after its wait time.
 */
public class Locks
    @JvmOverloads
    constructor(
        picket: Picket,
        spec: ConnSpec,
        /** Key prefix, watchdog, polling, durability. */
        public val options: LockOptions = LockOptions(),
    ) : AutoCloseable {
        /** Locks live on the master, whatever the spec reads from; acquisitions are confirmed as [options] says. */
        public val spec: ConnSpec = spec.copy(readFrom = ReadFrom.Master)
        private val closed = AtomicBoolean(false)
        private val keys = LockKeys(options.prefix)
        private val calls = ScriptCalls(picket, this.spec, options, keys, closed::get)
        private val wakeUps = WakeUps(picket, this.spec, keys, closed::get)
        private val acquirer = Acquirer(calls, wakeUps, options)

        /** How the views run the suspend members for Java (core's one mechanism). */
        @get:JvmSynthetic
        internal val javaCalls: JavaCalls = picket.javaCalls()
        private val blocking = BlockingLocks(this)
        private val async = AsyncLocks(this)

        /**
         * Acquires [name] for [holdFor], waiting at most [waitFor] (0: exactly one attempt); null if it stayed held.
         *
         * @throws InvalidSpecException if [name] is blank, [holdFor] is under 1 ms or [waitFor] is negative.
         * @throws FencingEpochUnknownException if the master was just switched to and its epoch stayed unknown.
         */
        @JvmSynthetic
        public suspend fun acquire(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
        ): LockLease? {
            validateLock(name, holdFor, waitFor)
            return acquirer.acquire(name, holdFor, waitFor)
        }

        /**
         * Releases [lease]. Returns true if it was held and is now free, false if it had already expired (or was
         * deleted).
         *
         * @throws NotLockOwnerException if another owner holds the lock now; nothing changes.
         */
        @JvmSynthetic
        public suspend fun release(lease: LockLease): Boolean = calls.release(lease)

        /**
         * Extends [lease] to [holdFor] from now (server time) and returns the extended lease.
         *
         * @throws LockLostException if it is no longer held.
         * @throws NotLockOwnerException if another owner holds the lock now.
         */
        @JvmSynthetic
        public suspend fun extend(
            lease: LockLease,
            holdFor: Duration = lease.holdFor,
        ): LockLease {
            validateLock(lease.name, holdFor, Duration.ZERO)
            return calls.extend(lease, holdFor)
        }

        /** Who holds [name] now, or null if it is free. */
        @JvmSynthetic
        public suspend fun holder(name: String): LockHolder? {
            validateLock(name, Duration.ofMillis(1), Duration.ZERO)
            return calls.holder(name)
        }

        /**
         * Runs [block] while holding [name]: acquired for [holdFor], waiting at most [waitFor], released afterwards.
         * With the watchdog ([LockOptions.watchdog]) the lease is extended every third of [holdFor] while the block
         * runs (from `Dispatchers.Default`); if it is lost (an extension refused, or [holdFor] passed without one
         * succeeding) the block is cancelled and [LockLostException] thrown. Found lost at release, the lease makes
         * this throw [LockLostException] (the block's result is dropped: it may have run unprotected), or is attached
         * as suppressed to the block's own exception.
         *
         * @throws LockNotAcquiredException if [name] stayed held for [waitFor].
         */
        @JvmSynthetic
        public suspend fun <T> withLock(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
            watchdog: Boolean = options.watchdog,
            block: suspend (LockLease) -> T,
        ): T {
            val lease = acquire(name, holdFor, waitFor) ?: throw LockNotAcquiredException(name, waitFor)
            return holding(lease, watchdog, calls, block)
        }

        /**
         * [withLock], or null when [name] could not be acquired within [waitFor]. The block's result type is not
         * nullable, so its own result is never confused with "not acquired".
         */
        @JvmSynthetic
        public suspend fun <T : Any> withLockOrNull(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
            block: suspend (LockLease) -> T,
        ): T? {
            val lease = acquire(name, holdFor, waitFor) ?: return null
            return holding(lease, options.watchdog, calls, block)
        }

        /**
         * The blocking form of these locks, for Java: the same members, run on the calling thread; a `withLock`
         * block runs there too, and is interrupted when its lease is lost. See [BlockingLocks].
         */
        public fun blocking(): BlockingLocks = blocking

        /** The future form of these locks, for Java: the same members, each returning a future. See [AsyncLocks]. */
        public fun async(): AsyncLocks = async

        /** [withLock] (or [withLockOrNull] when [orNull]) with a Java [block] run on the calling thread. */
        @JvmSynthetic
        internal suspend fun <T> withLockOnThisThread(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
            watchdog: Boolean,
            orNull: Boolean,
            block: Function<LockLease, T>,
        ): T? {
            val lease =
                acquire(name, holdFor, waitFor)
                    ?: if (orNull) return null else throw LockNotAcquiredException(name, waitFor)
            return holdingOnThisThread(lease, watchdog, calls, block)
        }

        /** Closes the wake-up subscription; leases held stay until released or expired. */
        override fun close() {
            if (!closed.compareAndSet(false, true)) return
            wakeUps.close()
        }
    }

/** Locks on [spec]'s master with [options]; close it when done. */
@JvmOverloads
public fun Picket.locks(
    spec: ConnSpec,
    options: LockOptions = LockOptions(),
): Locks = Locks(this, spec, options)
