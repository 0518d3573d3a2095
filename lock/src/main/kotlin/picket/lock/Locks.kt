package picket.lock

import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
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
import picket.core.Durability
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.PicketClosedException
import picket.core.ReadFrom
import picket.core.internal.runScript
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubListener
import picket.pubsub.PubSubMessage
import picket.pubsub.listen
import picket.sentinel.Picket
import picket.sentinel.internal.withConnOnEpoch
import java.time.Duration
import java.time.Instant
import java.util.UUID
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedDeque
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicReference
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

        /** The waiters of each name, longest-waiting first: a `released` message wakes the first. */
        private val waiters = ConcurrentHashMap<String, ConcurrentLinkedDeque<Waiter>>()

        /** The same waiters by owner token: a `granted` message hands its lease to the one it names. */
        private val byOwner = ConcurrentHashMap<String, Waiter>()
        private val subscriptionLock = Mutex()
        private val background = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-locks"))
        private val listener: PubSubListener by lazy {
            // On the connection's I/O thread: a grant reaches its waiter without a dispatch in between.
            picket.listen(this.spec, emptyMap(), ListenerOptions(inlineHandler = ::onMessage))
        }

        @Volatile
        private var listening = false

        /** One waiting [acquire]: its owner token is its place in the lock's queue on the server. */
        private class Waiter(
            val name: String,
            val owner: String,
            val holdFor: Duration,
            val waitFor: Duration,
        ) {
            /** Set by a `granted` message before [wake] is signalled. */
            val granted = AtomicReference<LockLease?>()

            /** Conflated: a wake-up signalled while the waiter is busy is kept for its next wait. */
            val wake = Channel<Unit>(Channel.CONFLATED)
        }

        /**
         * Acquires [name] for [holdFor], waiting at most [waitFor] (0: exactly one attempt); null if it stayed held.
         *
         * @throws InvalidSpecException if [name] is blank, [holdFor] is under 1 ms or [waitFor] is negative.
         * @throws FencingEpochUnknownException if the master was just switched to and its epoch stayed unknown.
         */
        public suspend fun acquire(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
        ): LockLease? {
            validate(name, holdFor, waitFor)
            val deadline = System.nanoTime() + waitFor.toNanos()
            val owner = UUID.randomUUID().toString()
            var waiter: Waiter? = null
            try {
                // First one attempt that does not queue up: an uncontended lock costs one script and no subscription.
                val first = firstAttempt(name, owner, holdFor, waitFor.isZero)
                if (first != null || waitFor.isZero) return first
                waiter = Waiter(name, owner, holdFor, waitFor)
                // Subscribed before queueing up: a hand-over to this waiter is published after it can be heard.
                startWaiting(waiter)
                // The deadline passed: leave the queue; a hand-over that came first is a lease taken while waiting.
                return waitIn(waiter, deadline) ?: attempt(name, owner, holdFor, Mode.LEAVE).lease
            } catch (
                // Cancelled or failed (a durable acquisition not confirmed, a lost connection): leave the queue and
                // release what was granted meanwhile, so that it goes on to the next waiter; then rethrow.
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                withContext(NonCancellable) {
                    withTimeoutOrNull(LEAVE_TIMEOUT_MS) {
                        runCatching { attempt(name, owner, holdFor, Mode.LEAVE).lease?.let { release(it) } }
                    }
                }
                throw e
            } finally {
                waiter?.let { stopWaiting(it) }
            }
        }

        /**
         * The attempt that does not queue up. While the master's config-epoch is unknown (just switched to) it asks
         * again for up to a second when it is the only attempt ([only]), then fails; otherwise the waiting goes on.
         */
        private suspend fun firstAttempt(
            name: String,
            owner: String,
            holdFor: Duration,
            only: Boolean,
        ): LockLease? {
            repeat(EPOCH_ATTEMPTS) {
                val outcome = attempt(name, owner, holdFor, Mode.TRY)
                if (!outcome.epochUnknown) return outcome.lease
                if (!only) return null
                delay(EPOCH_WAIT_MS)
            }
            throw FencingEpochUnknownException(name, Duration.ofMillis(EPOCH_ATTEMPTS * EPOCH_WAIT_MS))
        }

        /**
         * [waiter]'s turns until it holds its lock or [deadline] (nanoTime) passes: each renews its place in the
         * queue (and takes a free lock at the queue's head), then sleeps until a hand-over or a release wakes it, or
         * its poll is due.
         */
        private suspend fun waitIn(
            waiter: Waiter,
            deadline: Long,
        ): LockLease? {
            val poll = options.pollInterval.toMillis()
            // A hand-over whose message was missed (the listener reconnecting) is found before it expires unused.
            val handOverCheck = (waiter.holdFor.toMillis() / 2).coerceAtLeast(1)
            val durable = options.acquireDurability != Durability.None
            while (true) {
                // A durable waiter confirms a hand-over with its own attempt: the grant is written, then WAITed for.
                if (!durable) waiter.granted.get()?.let { return it }
                val outcome = attempt(waiter.name, waiter.owner, waiter.holdFor, Mode.QUEUE)
                outcome.lease?.let { return it }
                val remaining = (deadline - System.nanoTime()) / NANOS_PER_MS
                if (remaining <= 0) {
                    if (outcome.epochUnknown) {
                        throw FencingEpochUnknownException(waiter.name, waiter.waitFor)
                    }
                    return null
                }
                // A lease ending before the poll (its holder gone) is taken when it ends; -1 (no expiry: not a
                // Picket lease) and -2 (none) leave the poll interval.
                val holderTtl = outcome.holderTtl
                val sleep =
                    when {
                        outcome.epochUnknown -> EPOCH_WAIT_MS
                        else -> minOf(poll, handOverCheck, if (holderTtl > 0) holderTtl else poll)
                    }
                withTimeoutOrNull(minOf(sleep, remaining).coerceAtLeast(1)) { waiter.wake.receive() }
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
                picket.withConnOnEpoch(spec) { epoch ->
                    // Without a known epoch no hand-over: the waiters are woken and the next attempt grants.
                    val known = if (epoch == null && !spec.isDirect) UNKNOWN_EPOCH else (epoch ?: 0L)
                    runScript<Long>(
                        Scripts.RELEASE,
                        ScriptOutputType.INTEGER,
                        lockKeys(lease.name),
                        lease.owner,
                        channel(lease.name),
                        known.toString(),
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
                        runScript<List<Any>>(
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
                        runScript<List<Any>>(
                            Scripts.HOLDER,
                            ScriptOutputType.MULTI,
                            arrayOf(lockKey(name), queueKey(name)),
                        )
                    }.orEmpty()
            if (reply.isEmpty()) return null
            return LockHolder(
                name,
                token(reply[0] as Long, reply[1] as Long),
                Duration.ofMillis(reply[2] as Long),
                (reply[3] as Long).toInt(),
            )
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
            CoroutineScope(Dispatchers.Default).future {
                extend(lease, holdFor)
            }

        /** Closes the wake-up subscription; leases held stay until released or expired. */
        override fun close() {
            if (!closed.compareAndSet(false, true)) return
            background.cancel()
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

        /** What an attempt does besides taking a free lock. */
        private enum class Mode(
            val code: String,
        ) {
            /** Nothing: one attempt. */
            TRY("0"),

            /** Queue up (or renew this waiter's place). */
            QUEUE("1"),

            /** Leave the queue (a lease handed over already is returned). */
            LEAVE("2"),
        }

        /** What one attempt found: the lease, or how long the holder's lease lasts (ms), or no known epoch. */
        private class Outcome(
            val lease: LockLease?,
            val holderTtl: Long,
            val epochUnknown: Boolean = false,
        )

        /** One attempt by [owner], on the master (a leave needs no epoch and no durability: it never grants). */
        private suspend fun attempt(
            name: String,
            owner: String,
            holdFor: Duration,
            mode: Mode,
        ): Outcome {
            if (closed.get() && mode != Mode.LEAVE) throw PicketClosedException()
            val alive = options.pollInterval.toMillis() * ALIVE_POLLS
            val reply =
                picket.withConnOnEpoch(if (mode == Mode.LEAVE) spec else acquireSpec) { epoch ->
                    // A sentinel spec's master without a known epoch yet (just switched to) grants nothing.
                    if (epoch == null && !spec.isDirect && mode != Mode.LEAVE) return@withConnOnEpoch null
                    runScript<List<Any>>(
                        Scripts.ACQUIRE,
                        ScriptOutputType.MULTI,
                        lockKeys(name),
                        owner,
                        holdFor.toMillis().toString(),
                        (epoch ?: 0L).toString(),
                        mode.code,
                        alive.toString(),
                        channel(name),
                    )
                } ?: return Outcome(null, 0L, epochUnknown = true)
            return if (reply[0] == 1L) {
                Outcome(lease(name, owner, holdFor, reply[1], reply[2], reply[3], reply[4]), 0L)
            } else {
                Outcome(null, reply[1] as Long)
            }
        }

        /** Takes [message] on the pub/sub connection's I/O thread: a grant to its waiter, a release to the first. */
        private fun onMessage(message: PubSubMessage): Boolean {
            val channel = message.channel
            if (!channel.startsWith(options.prefix) || !channel.endsWith(RELEASED)) return false
            val parts = message.payload.split(' ')
            if (parts[0] == GRANTED && parts.size == GRANT_PARTS) {
                val waiter = byOwner[parts[1]] ?: return true
                val numbers = parts.drop(2).map { it.toLongOrNull() ?: return true }
                val lease =
                    lease(waiter.name, waiter.owner, waiter.holdFor, numbers[0], numbers[1], numbers[2], numbers[3])
                waiter.granted.compareAndSet(null, lease)
                waiter.wake.trySend(Unit)
            } else {
                val name = channel.removePrefix(options.prefix).removeSuffix(RELEASED)
                waiters[name]?.peekFirst()?.wake?.trySend(Unit)
            }
            return true
        }

        private suspend fun startWaiting(waiter: Waiter) {
            subscriptionLock.withLock {
                byOwner[waiter.owner] = waiter
                val queue = waiters.computeIfAbsent(waiter.name) { ConcurrentLinkedDeque() }
                queue.addLast(waiter)
                if (queue.size == 1) {
                    listening = true
                    listener.subscribe(channel(waiter.name))
                }
            }
            // A listener still connecting (the first wait, or after a failover) has only recorded the channel: wait
            // for the connection, so a hand-over right after queueing up is heard. Not connected in time, the
            // waiter queues up all the same and finds a hand-over on its next attempt.
            if (!listener.isConnected) listener.awaitConnected(spec.commandTimeout)
        }

        /** Not suspending: a waiter that got its lease returns at once; the unsubscribing happens behind it. */
        private fun stopWaiting(waiter: Waiter) {
            byOwner.remove(waiter.owner)
            val queue = waiters[waiter.name] ?: return
            queue.remove(waiter)
            // A `released` wake-up meant for this waiter goes to the next one.
            if (waiter.wake.tryReceive().isSuccess) queue.peekFirst()?.wake?.trySend(Unit)
            if (queue.isEmpty() && !closed.get()) {
                background.launch {
                    subscriptionLock.withLock {
                        // Under the lock that adds waiters: a waiter that came meanwhile keeps the subscription.
                        if (waiters[waiter.name]?.isEmpty() == true) {
                            waiters.remove(waiter.name)
                            runCatching { listener.unsubscribe(channel(waiter.name)) }
                        }
                    }
                }
            }
        }

        private fun lockKey(name: String) = options.prefix + name

        private fun queueKey(name: String) = options.prefix + name + QUEUE

        private fun lockKeys(name: String) =
            arrayOf(lockKey(name), options.prefix + name + FENCE, queueKey(name), options.prefix + name + WAITING)

        private fun channel(name: String) = options.prefix + name + RELEASED

        private fun validate(
            name: String,
            holdFor: Duration,
            waitFor: Duration,
        ) {
            if (name.isBlank()) throw InvalidSpecException("lock name is blank")
            // Expiries are whole milliseconds on the server: PEXPIRE 0 would delete the lease at once.
            if (holdFor < Duration.ofMillis(1)) {
                throw InvalidSpecException("lock '$name' holdFor is $holdFor, must be at least 1 ms")
            }
            if (waitFor.isNegative) throw InvalidSpecException("lock '$name' waitFor is $waitFor, must be >= 0")
        }

        private companion object {
            const val FENCE = ":fence"
            const val QUEUE = ":queue"
            const val WAITING = ":waiting"
            const val RELEASED = ":released"
            const val GRANTED = "granted"
            const val GRANT_PARTS = 6
            const val UNKNOWN_EPOCH = -1L

            /** A waiter that has not renewed its place for this many poll intervals is skipped by hand-overs. */
            const val ALIVE_POLLS = 3L
            const val LEAVE_TIMEOUT_MS = 1_000L
            const val THIRDS = 3
            const val NANOS_PER_MS = 1_000_000L
            const val EPOCH_ATTEMPTS = 50
            const val EPOCH_WAIT_MS = 20L
            const val EPOCH_SHIFT = 40

            fun token(
                epoch: Long,
                counter: Long,
            ): Long = (epoch shl EPOCH_SHIFT) or counter

            fun lease(
                name: String,
                owner: String,
                holdFor: Duration,
                epoch: Any,
                counter: Any,
                seconds: Any,
                micros: Any,
            ): LockLease =
                LockLease(name, owner, token(epoch as Long, counter as Long), instant(seconds, micros), holdFor)

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
