package picket.mq

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.Semaphore
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InternalPicketApi
import picket.core.PicketClosedException
import picket.core.PicketInterruptedException
import picket.core.internal.Backoff
import picket.core.internal.javaCalls
import picket.mq.internal.Handling
import picket.mq.internal.LeaseReaper
import picket.mq.internal.QueueKeys
import picket.mq.internal.Settler
import picket.mq.internal.TakeReply
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubListener
import picket.pubsub.Topic
import picket.pubsub.listen
import java.time.Duration
import java.util.UUID
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference

/**
 * Takes messages of one queue and runs its handler on them, [WorkerOptions.concurrency] at a time, until stopped.
 * Made by [MessageQueues.worker].
 *
 * ```kotlin
 * val worker = queues.worker("mail", WorkerOptions(concurrency = 8)) { delivery ->
 *     send(delivery.message)
 *     HandlerResult.success()
 * }
 * …
 * worker.stop()   // drains running handlers, up to WorkerOptions.drainTimeout
 * ```
 *
 * A message is taken only when a handler is free; each delivery holds a lease on the master (the visibility
 * timeout). Not acknowledged by its deadline (the worker died, lost its connection, or the handler overran), the
 * message is delivered again, with the next attempt number, and the overrunning handler is cancelled. After
 * [RetryPolicy.maxAttempts] deliveries it moves to the dead-letter list with its last error.
 *
 * Java: `worker.blocking().stop()` (on the calling thread) or `worker.async().stop()` (a future); `close()` stops it
 * with the default drain timeout.
 */
@OptIn(InternalPicketApi::class)
public class Worker<T> private constructor(
    @get:JvmSynthetic internal val queues: MessageQueues<T>,
    /** The queue this worker takes from. */
    public val queue: String,
    /** How it takes and handles. */
    public val options: WorkerOptions,
    handler: suspend (Delivery<T>) -> HandlerResult?,
) : AutoCloseable {
    private enum class State { NEW, RUNNING, STOPPING, STOPPED }

    private val keys: QueueKeys = queues.ops.keys(queue)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-mq-$queue"))
    private val slots = Semaphore(options.concurrency)
    private val wake = Channel<Unit>(Channel.CONFLATED)
    private val takeLock = Mutex()
    private val state = AtomicReference(State.NEW)
    private val workerId = UUID.randomUUID().toString().take(ID_LENGTH)
    private val takes = AtomicLong()

    /** Sends the handlers' acknowledgements and retries; apart from [scope] so that draining does not wait for it. */
    private val settling = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-mq-$queue-ack"))
    private val settler =
        Settler(queues.ops, keys, options.keepChosenIdsFor.toMillis(), options.retry.maxAttempts, settling)
    private val reaper = LeaseReaper()

    /** Runs the [reaper] while handlers run, draining included; apart from [scope] so that draining does not wait. */
    private val reaping =
        CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-mq-$queue-leases"))
    private val handling = Handling(queues, keys, options, handler, settler, reaper)

    private val blocking = BlockingWorker(this)
    private val async = AsyncWorker(this)

    private var loop: kotlinx.coroutines.Job? = null
    private var wakeListener: PubSubListener? = null
    private var localWake: AutoCloseable? = null
    private var backlogWatch: AutoCloseable? = null

    /** True between [start] and [stop]. */
    public val isRunning: Boolean get() = state.get() == State.RUNNING

    /** Handlers running now. */
    public val inFlight: Int get() = options.concurrency - slots.availablePermits

    /** Figures since the worker started. */
    public fun metrics(): WorkerMetrics = handling.metrics.snapshot()

    /**
     * Starts taking messages. Returns this worker.
     *
     * @throws IllegalStateException if it was started before (a stopped worker does not start again: make another).
     */
    public fun start(): Worker<T> {
        check(state.compareAndSet(State.NEW, State.RUNNING)) { "the worker of queue '$queue' was already started" }
        localWake = queues.onLocalEnqueue(queue) { wake.trySend(Unit) }
        backlogWatch = options.backlogWarning?.let { queues.warnBacklogAbove(queue, it) }
        wakeListener =
            queues.picket.listen(
                queues.spec,
                mapOf(Topic.channel(keys.wakeChannel) to { _ -> wake.trySend(Unit) }),
                ListenerOptions(pingInterval = options.wakePingInterval),
            )
        reaping.launch { reaper.run() }
        loop = scope.launch { run() }
        return this
    }

    /**
     * Stops taking messages and waits up to [drainTimeout] for the running handlers; those still running then are
     * cancelled without an acknowledgement, and their messages are delivered again after their lease. Returns true
     * if every handler finished within the time. Calling it again, or on a worker never started, returns true.
     */
    @JvmSynthetic
    public suspend fun stop(drainTimeout: Duration = options.drainTimeout): Boolean {
        if (!state.compareAndSet(State.RUNNING, State.STOPPING)) {
            state.compareAndSet(State.NEW, State.STOPPED)
            return true
        }
        // No take is cut off half way: a message taken is handed to a handler.
        takeLock.withLock { loop?.cancel() }
        loop?.join()
        localWake?.close()
        backlogWatch?.close()
        wakeListener?.close()
        val handlers = scope.coroutineContext[kotlinx.coroutines.Job]!!.children.toList()
        val drained = withTimeoutOrNull(drainTimeout.toMillis()) { handlers.joinAll() } != null
        scope.cancel()
        scope.coroutineContext[kotlinx.coroutines.Job]!!.join()
        settling.cancel()
        settling.coroutineContext[kotlinx.coroutines.Job]!!.join()
        reaping.cancel()
        reaping.coroutineContext[kotlinx.coroutines.Job]!!.join()
        state.set(State.STOPPED)
        return drained
    }

    /** The blocking form of [stop], for Java: on the calling thread, interruptibly. */
    public fun blocking(): BlockingWorker<T> = blocking

    /** The `CompletableFuture` form of [stop], for Java. */
    public fun async(): AsyncWorker<T> = async

    /**
     * [stop] with the default drain timeout, on the calling thread, to its end: an interrupt does not cut it short (the
     * thread's interrupt flag is kept), and it stops the worker after its Picket was closed too.
     */
    override fun close() {
        try {
            queues.picket.javaCalls().blocking("closing the worker of queue '$queue'") {
                withContext(NonCancellable) { stop() }
            }
        } catch (_: PicketInterruptedException) {
            // Stopped all the same: the stop ran to its end, not cancellable; the thread's interrupt flag is set again.
        } catch (_: PicketClosedException) {
            // Its Picket was closed first: the stop ran to its end all the same.
        }
    }

    private suspend fun run() {
        var idleMs = options.idleBackoffMin.toMillis()
        var failures = 0
        while (true) {
            slots.acquire()
            var free = 1
            while (free < options.takeBatch && slots.tryAcquire()) free++
            val reply =
                try {
                    takeLock.withLock { if (state.get() == State.RUNNING) poll(free) else null }
                } catch (e: CancellationException) {
                    repeat(free) { slots.release() }
                    throw e
                } catch (
                    // A poll that failed (Redis down, a failover) is retried with capped backoff; the worker goes on.
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    repeat(free) { slots.release() }
                    backOff(e, ++failures)
                    continue
                }
            if (reply == null) return
            failures = 0
            idleMs = pause(reply, idleMs)
        }
    }

    /** Waits after a poll: idle backoff (cut short by a wake-up) if it took nothing, else the throttle. */
    private suspend fun pause(
        reply: TakeReply,
        idleMs: Long,
    ): Long {
        if (reply.taken.isEmpty()) {
            val wait = if (reply.nextDueMs >= 0) minOf(reply.nextDueMs + 1, idleMs) else idleMs
            withTimeoutOrNull(Backoff.jittered(wait, options.jitter).coerceAtLeast(1)) { wake.receive() }
            return minOf(idleMs * 2, options.idleBackoffMax.toMillis())
        }
        val throttle = options.throttle?.pause(reply.readyLeft)
        if (throttle != null && !throttle.isZero && !throttle.isNegative) delay(throttle.toMillis())
        return options.idleBackoffMin.toMillis()
    }

    private suspend fun backOff(
        cause: Exception,
        failures: Int,
    ) {
        // The idle back-off's minimum doubled per failure (twice it after the first), at most 5 s.
        val wait =
            Backoff.after(
                failures.coerceAtMost(SHIFT_CAP) + 1,
                options.idleBackoffMin.toMillis(),
                MAX_ERROR_BACKOFF_MS,
                options.jitter,
            )
        queues.bus.emit(QueueEvent.WorkerError(queue, cause, Duration.ofMillis(wait)))
        delay(wait)
    }

    /** One take of up to [free] messages; each taken one goes to a handler, the other slots are given back. */
    private suspend fun poll(free: Int): TakeReply {
        val sentAt = System.nanoTime()
        val reply =
            queues.ops.take(
                keys,
                free,
                "$workerId:${takes.incrementAndGet()}",
                options.visibilityTimeout.toMillis(),
                options.retry.maxAttempts,
            )
        val receivedAt = System.nanoTime()
        repeat(free - reply.taken.size) { slots.release() }
        // Said before any handling starts: a listener hears of a redelivery before the handler's own events.
        reply.redelivered.forEach { queues.bus.emit(QueueEvent.Redelivered(queue, it)) }
        reply.deadLettered.forEach {
            queues.bus.emit(
                QueueEvent.DeadLettered(queue, it, options.retry.maxAttempts, "lease expired on the last attempt"),
            )
        }
        reply.taken.forEach { taken ->
            scope.launch {
                try {
                    handling.handle(taken, reply, sentAt, receivedAt)
                } finally {
                    slots.release()
                }
            }
        }
        queues.backlog.observe(queue, reply.readyLeft)
        return reply
    }

    override fun toString(): String = "Worker(queue=$queue, id=$workerId, state=${state.get()})"

    internal companion object {
        private const val ID_LENGTH = 8
        private const val SHIFT_CAP = 10
        private const val MAX_ERROR_BACKOFF_MS = 5_000L

        /** A worker of [queue] running [handler] (made by [MessageQueues.worker]); not started. */
        @JvmSynthetic
        internal fun <T> create(
            queues: MessageQueues<T>,
            queue: String,
            options: WorkerOptions,
            handler: suspend (Delivery<T>) -> HandlerResult?,
        ): Worker<T> = Worker(queues, queue, options, handler)
    }
}
