package picket.lock

import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.future
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.PicketClosedException
import picket.core.ReadFrom
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubListener
import picket.pubsub.listen
import picket.sentinel.Picket
import java.time.Duration
import java.time.Instant
import java.util.UUID
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedDeque
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.function.Function

/**
 * Distributed locks on the master of [spec]: leases with an owner token, a fencing token and a server-side expiry;
 * [withLock] with a watchdog; waiting that wakes on release (one pub/sub subscription per [Locks] for the names
 * being waited on) and holds no shared connection.
 *
 * ```kotlin
 * Locks(picket, spec).use { locks ->
 *     locks.withLock("invoice:42", holdFor = Duration.ofSeconds(10), waitFor = Duration.ofSeconds(2)) { lease ->
 *         writeInvoice(fencingToken = lease.fencingToken)
 *     }
 * }
 * ```
 *
 * Not reentrant: a nested [withLock] on a name this coroutine already holds waits for its own lease, like any other
 * waiter, and fails with [LockNotAcquiredException] after its wait time.
 */
@OptIn(InternalPicketApi::class)
// Each capability has a Kotlin (suspend) and a Java (blocking) form.
@Suppress("TooManyFunctions")
public class Locks
    @JvmOverloads
    constructor(
        private val picket: Picket,
        spec: ConnSpec,
        /** Key prefix, watchdog, polling, durability. */
        public val options: LockOptions = LockOptions(),
    ) : AutoCloseable {
        /** Locks live on the master, whatever the spec reads from; acquisitions are confirmed as [options] says. */
        public val spec: ConnSpec = spec.copy(readFrom = ReadFrom.Master)
        private val acquireSpec = this.spec.withDurability(options.acquireDurability)
        private val closed = AtomicBoolean(false)

        /** The waiters of each name, longest-waiting first; a release wakes the first. */
        private val waiters = ConcurrentHashMap<String, ConcurrentLinkedDeque<Waiter>>()
        private val subscriptionLock = Mutex()
        private val listener: PubSubListener by lazy {
            picket.listen(this.spec, emptyMap(), ListenerOptions()).also { listener ->
                listener.fallback = { message -> wakeFirst(message.channel) }
            }
        }

        @Volatile
        private var listening = false

        private class Waiter {
            @Volatile
            var signal = CompletableDeferred<Unit>()
        }

        /**
         * Acquires [name] for [holdFor], waiting at most [waitFor] (0: exactly one attempt); null if it stayed held.
         *
         * @throws InvalidSpecException if [name] is blank, [holdFor] is not positive or [waitFor] is negative.
         */
        public suspend fun acquire(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
        ): LockLease? {
            validate(name, holdFor, waitFor)
            val deadline = System.nanoTime() + waitFor.toNanos()
            // A caller does not overtake this instance's waiters: it queues behind them (a wait of 0 is one attempt).
            if (waitFor.isZero || waiters[name].isNullOrEmpty()) {
                attempt(name, holdFor).let { (lease, _) -> if (lease != null || waitFor.isZero) return lease }
            }
            val waiter = Waiter()
            startWaiting(name, waiter)
            try {
                return waitIn(name, holdFor, deadline, waiter)
            } finally {
                stopWaiting(name, waiter)
            }
        }

        /** [waiter]'s turns until it holds [name] or [deadline] (nanoTime) passes. */
        private suspend fun waitIn(
            name: String,
            holdFor: Duration,
            deadline: Long,
            waiter: Waiter,
        ): LockLease? {
            var pollDue = false
            while (true) {
                // The first waiter tries when woken by a release or its poll; the others only on their poll.
                var ttl = options.pollInterval.toMillis()
                if (pollDue || waiters[name]?.peekFirst() === waiter) {
                    val (lease, holderTtl) = attempt(name, holdFor)
                    if (lease != null) return lease
                    // A key without expiry (-1: not ours) must not turn waiting into polling every millisecond.
                    if (holderTtl > 0) ttl = holderTtl
                }
                val remaining = deadline - System.nanoTime()
                if (remaining <= 0) return null
                val sleep = minOf(remaining / NANOS_PER_MS, options.pollInterval.toMillis(), ttl.coerceAtLeast(1))
                pollDue = withTimeoutOrNull(sleep.coerceAtLeast(1)) { waiter.signal.await() } == null
                if (waiter.signal.isCompleted) waiter.signal = CompletableDeferred()
            }
        }

        /**
         * Releases [lease]. Returns true if it was held and is now free, false if it had already expired (or was
         * deleted).
         *
         * @throws NotLockOwnerException if another owner holds the lock now; nothing changes.
         */
        public suspend fun release(lease: LockLease): Boolean {
            val result =
                picket.withConn(spec) {
                    eval<Long>(
                        Scripts.RELEASE,
                        ScriptOutputType.INTEGER,
                        arrayOf(lockKey(lease.name)),
                        lease.owner,
                        channel(lease.name),
                    )
                }
            return when (result) {
                1L -> true
                -1L -> throw NotLockOwnerException(lease.name, "release")
                else -> false
            }
        }

        /**
         * Extends [lease] to [holdFor] from now (server time) and returns the extended lease.
         *
         * @throws LockLostException if it is no longer held.
         * @throws NotLockOwnerException if another owner holds the lock now.
         */
        public suspend fun extend(
            lease: LockLease,
            holdFor: Duration = lease.holdFor,
        ): LockLease {
            validate(lease.name, holdFor, Duration.ZERO)
            val reply =
                picket
                    .withConn(spec) {
                        eval<List<Any>>(
                            Scripts.EXTEND,
                            ScriptOutputType.MULTI,
                            arrayOf(lockKey(lease.name)),
                            lease.owner,
                            holdFor.toMillis().toString(),
                        )
                    }.orEmpty()
            return when (reply.firstOrNull()) {
                1L -> lease.copy(serverTime = instant(reply[1], reply[2]), holdFor = holdFor)
                -1L -> throw NotLockOwnerException(lease.name, "extend")
                else -> throw LockLostException(lease.name, "it expired before it was extended")
            }
        }

        /** Who holds [name] now, or null if it is free. */
        public suspend fun holder(name: String): LockHolder? {
            validate(name, Duration.ofMillis(1), Duration.ZERO)
            val reply =
                picket
                    .withConn(spec) {
                        eval<List<Any>>(Scripts.HOLDER, ScriptOutputType.MULTI, arrayOf(lockKey(name)))
                    }.orEmpty()
            if (reply.isEmpty()) return null
            return LockHolder(name, token(reply[0] as Long, reply[1] as Long), Duration.ofMillis(reply[2] as Long))
        }

        /**
         * Runs [block] while holding [name]: acquired for [holdFor], waiting at most [waitFor], released afterwards.
         * With the watchdog ([LockOptions.watchdog]) the lease is extended every third of [holdFor] while the block
         * runs; if it is lost (an extension refused, or [holdFor] passed without one succeeding) the block is
         * cancelled and [LockLostException] thrown. Found lost at release, the lease makes this throw
         * [LockLostException] (the block's result is dropped: it may have run unprotected), or is attached as
         * suppressed to the block's own exception.
         *
         * @throws LockNotAcquiredException if [name] stayed held for [waitFor].
         */
        @JvmOverloads
        public suspend fun <T> withLock(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
            watchdog: Boolean = options.watchdog,
            block: suspend (LockLease) -> T,
        ): T {
            val lease = acquire(name, holdFor, waitFor) ?: throw LockNotAcquiredException(name, waitFor)
            return holding(lease, watchdog, block)
        }

        /**
         * [withLock], or null when [name] could not be acquired within [waitFor]. The block's result type is not
         * nullable, so its own result is never confused with "not acquired".
         */
        public suspend fun <T : Any> withLockOrNull(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
            block: suspend (LockLease) -> T,
        ): T? {
            val lease = acquire(name, holdFor, waitFor) ?: return null
            return holding(lease, options.watchdog, block)
        }

        /** [withLock] for Java, on the calling thread. */
        public fun <T> withLockBlocking(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
            block: Function<LockLease, T>,
        ): T = runBlocking { withLock(name, holdFor, waitFor) { lease -> block.apply(lease) } }

        /** [acquire] for Java, on the calling thread. */
        public fun acquireBlocking(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
        ): LockLease? = runBlocking { acquire(name, holdFor, waitFor) }

        /** [release] for Java, on the calling thread. */
        public fun releaseBlocking(lease: LockLease): Boolean = runBlocking { release(lease) }

        /** [extend] for Java, as a future. */
        public fun extendAsync(
            lease: LockLease,
            holdFor: Duration,
        ): CompletableFuture<LockLease> =
            kotlinx.coroutines.CoroutineScope(kotlinx.coroutines.Dispatchers.Default).future {
                extend(lease, holdFor)
            }

        /** Closes the wake-up subscription; leases held stay until released or expired. */
        override fun close() {
            if (!closed.compareAndSet(false, true)) return
            if (listening) listener.close()
        }

        private suspend fun <T> holding(
            lease: LockLease,
            watchdog: Boolean,
            block: suspend (LockLease) -> T,
        ): T {
            val outcome =
                try {
                    Result.success(if (watchdog) guarded(lease, block) else block(lease))
                } catch (
                    // Whatever the block threw (cancellation included) is rethrown below, after the release.
                    @Suppress("TooGenericExceptionCaught") e: Throwable,
                ) {
                    Result.failure(e)
                }
            // Released even when the caller was cancelled: the lock must not stay taken until it expires.
            val lost = withContext(NonCancellable) { releaseAfterBlock(lease) }
            val failure = outcome.exceptionOrNull()
            if (failure != null) {
                if (lost != null && failure !is LockLostException) failure.addSuppressed(lost)
                throw failure
            }
            if (lost != null) throw lost
            return outcome.getOrThrow()
        }

        /** Releases [lease] after its block; returns why it had been lost, if it had. */
        private suspend fun releaseAfterBlock(lease: LockLease): LockLostException? =
            try {
                if (release(lease)) null else LockLostException(lease.name, "it had expired when released")
            } catch (e: NotLockOwnerException) {
                LockLostException(lease.name, "another owner held it when released", e)
            } catch (e: picket.core.PicketException) {
                LockLostException(lease.name, "releasing it failed: ${e.message}", e)
            } catch (e: io.lettuce.core.RedisException) {
                LockLostException(lease.name, "releasing it failed: ${e.message}", e)
            }

        /** Runs [block] with a watchdog that extends [lease] and cancels the block when it is lost. */
        private suspend fun <T> guarded(
            lease: LockLease,
            block: suspend (LockLease) -> T,
        ): T =
            coroutineScope {
                val work = async { block(lease) }
                val dog =
                    launch {
                        val lost = watch(lease)
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

        /** Extends [lease] every third of its hold time; returns why it was lost. */
        private suspend fun watch(lease: LockLease): LockLostException {
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

        /** One attempt: the lease, or null and how long the current holder's lease lasts (ms). */
        private suspend fun attempt(
            name: String,
            holdFor: Duration,
        ): Pair<LockLease?, Long> {
            if (closed.get()) throw PicketClosedException()
            val owner = UUID.randomUUID().toString()
            repeat(EPOCH_ATTEMPTS) {
                val reply =
                    picket.withConnOnEpoch(acquireSpec) { epoch ->
                        // A sentinel spec's master without a known epoch yet (just switched to): ask again shortly.
                        if (epoch == null && !spec.isDirect) return@withConnOnEpoch null
                        eval<List<Any>>(
                            Scripts.ACQUIRE,
                            ScriptOutputType.MULTI,
                            arrayOf(lockKey(name), fenceKey(name)),
                            owner,
                            holdFor.toMillis().toString(),
                            (epoch ?: 0L).toString(),
                        )
                    }
                if (reply != null) {
                    return if (reply[0] == 1L) {
                        val lease =
                            LockLease(
                                name,
                                owner,
                                token(reply[1] as Long, reply[2] as Long),
                                instant(reply[3], reply[4]),
                                holdFor,
                            )
                        lease to 0L
                    } else {
                        null to (reply[1] as Long)
                    }
                }
                delay(EPOCH_WAIT_MS)
            }
            throw LockLostException(name, "Sentinel's config-epoch of the master stayed unknown; not acquired")
        }

        private suspend fun startWaiting(
            name: String,
            waiter: Waiter,
        ) {
            subscriptionLock.withLock {
                val queue = waiters.computeIfAbsent(name) { ConcurrentLinkedDeque() }
                queue.addLast(waiter)
                if (queue.size == 1) {
                    listening = true
                    listener.subscribe(channel(name))
                }
            }
        }

        private suspend fun stopWaiting(
            name: String,
            waiter: Waiter,
        ) {
            subscriptionLock.withLock {
                val queue = waiters[name] ?: return
                queue.remove(waiter)
                if (queue.isEmpty()) {
                    waiters.remove(name)
                    if (!closed.get()) runCatching { listener.unsubscribe(channel(name)) }
                }
            }
            // A release meant for this waiter wakes the next one.
            if (waiter.signal.isCompleted) wakeFirst(channel(name))
        }

        private fun wakeFirst(channel: String) {
            val name = channel.removePrefix(options.prefix).removeSuffix(RELEASED)
            waiters[name]?.firstOrNull()?.signal?.complete(Unit)
        }

        private fun lockKey(name: String) = options.prefix + name

        private fun fenceKey(name: String) = options.prefix + name + FENCE

        private fun channel(name: String) = options.prefix + name + RELEASED

        private fun validate(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
        ) {
            if (name.isBlank()) throw InvalidSpecException("lock name is blank")
            if (holdFor.isNegative || holdFor.isZero) {
                throw InvalidSpecException("lock '$name' holdFor is $holdFor, must be > 0")
            }
            if (waitFor.isNegative) throw InvalidSpecException("lock '$name' waitFor is $waitFor, must be >= 0")
        }

        private companion object {
            const val FENCE = ":fence"
            const val RELEASED = ":released"
            const val THIRDS = 3
            const val NANOS_PER_MS = 1_000_000L
            const val EPOCH_ATTEMPTS = 50
            const val EPOCH_WAIT_MS = 20L
            const val EPOCH_SHIFT = 40

            fun token(
                epoch: Long,
                counter: Long,
            ): Long = (epoch shl EPOCH_SHIFT) or counter

            fun instant(
                seconds: Any,
                micros: Any,
            ): Instant = Instant.ofEpochSecond(seconds as Long, TimeUnit.MICROSECONDS.toNanos(micros as Long))
        }
    }

/** Locks on [spec]'s master with [options]; close it when done. */
@JvmOverloads
public fun Picket.locks(
    spec: ConnSpec,
    options: LockOptions = LockOptions(),
): Locks = Locks(this, spec, options)
