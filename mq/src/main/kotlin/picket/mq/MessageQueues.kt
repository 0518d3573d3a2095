package picket.mq

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.runInterruptible
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.ReadFrom
import picket.core.internal.ListenerBus
import picket.core.internal.handlers
import picket.mq.internal.BacklogWatches
import picket.mq.internal.EnqueueArgs
import picket.mq.internal.Enqueuers
import picket.mq.internal.LocalWakes
import picket.mq.internal.NewMessage
import picket.mq.internal.QueueKeyCache
import picket.mq.internal.QueueKeys
import picket.mq.internal.QueueOps
import picket.mq.internal.deadLetter
import picket.mq.internal.messageInfo
import picket.mq.internal.queueStatus
import java.util.UUID
import java.util.function.Function

/**
 * Durable message queues on the master of [spec] (carmine's message queue, done better): [enqueue] with
 * de-duplication, delays and durable confirmation; [worker]s with concurrent handlers, leases, retries with backoff
 * and a dead-letter list; status and admin. Every state change is one Lua script on the master, timed by the master's
 * clock; mq/README.md gives the key layout and the scripts.
 *
 * ```kotlin
 * val queues = picket.queues(spec)
 * val id = queues.enqueue("mail", "hello").id
 * val worker = queues.worker("mail", WorkerOptions(concurrency = 8)) { delivery ->
 *     send(delivery.message)
 *     HandlerResult.success()
 * }
 * ```
 *
 * Java ([blocking] and [async] have every member that waits for Redis, by the same name):
 *
 * ```java
 * MessageQueues<String> queues = MessageQueues.strings(picket, spec);
 * String id = queues.blocking().enqueue("mail", "hello").getId();
 * queues.async().enqueue("mail", "later").thenAccept(r -> log.info("queued {}", r.getId()));
 * Worker<String> worker = queues.worker("mail", new WorkerOptions().concurrency(8), delivery -> {
 *     send(delivery.getMessage());            // on a handler thread of the instance
 *     return HandlerResult.success();
 * });
 * ```
 *
 * Holds no connection of its own: close its workers.
 *
 * @property prefix put before every key; mq/README.md lists the keys.
 * @throws InvalidSpecException if [prefix] is blank.
 */
@OptIn(InternalPicketApi::class)
public class MessageQueues<T>
    @JvmOverloads
    constructor(
        public val picket: Picket,
        spec: ConnSpec,
        public val codec: MessageCodec<T>,
        public val prefix: String = DEFAULT_PREFIX,
    ) {
        /** Queues live on the master, whatever the spec reads from. */
        public val spec: ConnSpec = spec.copy(readFrom = ReadFrom.Master)

        @get:JvmSynthetic
        internal val ops = QueueOps(picket, this.spec, prefix)

        /** Where its and its workers' [QueueEvent]s go: to each listener in turn, on the coroutine that emits. */
        @get:JvmSynthetic
        internal val bus =
            ListenerBus.onEmitter<QueueEvent, QueueListener> {
                listener,
                event,
                ->
                listener.onEvent(event)
            }

        @get:JvmSynthetic
        internal val backlog = BacklogWatches(bus)
        private val blocking = BlockingMessageQueues(this)
        private val async = AsyncMessageQueues(this)
        private val localWakes = LocalWakes()
        private val keyCache = QueueKeyCache(ops)

        /** Sends the enqueues that arrive while one is in flight together. */
        private val enqueuers = Enqueuers(ops, this.spec)

        init {
            if (prefix.isBlank()) throw InvalidSpecException("queue key prefix is blank")
        }

        /**
         * Queues [message] on [queue] and returns its id and what was done ([EnqueueOutcome]): with a caller-chosen
         * id ([EnqueueOptions.id]) a message already waiting, in flight, recently done or dead is not queued again
         * unless the options say so.
         *
         * @throws InvalidSpecException if [queue] is blank or holds `{` or `}`.
         * @throws picket.core.DurabilityException if durable and the replicas did not confirm in time: the message
         *   was queued on the master all the same, and may or may not survive a failover.
         */
        @JvmSynthetic
        public suspend fun enqueue(
            queue: String,
            message: T,
            options: EnqueueOptions = EnqueueOptions.DEFAULT,
        ): EnqueueResult {
            val keys = keys(queue)
            val id = options.id ?: UUID.randomUUID().toString()
            val args =
                EnqueueArgs(
                    options.delay.toMillis(),
                    options.visibilityTimeout?.toMillis() ?: 0L,
                    options.update,
                    options.requeue,
                    options.debounce,
                    chosen = options.id != null,
                )
            val reply = enqueuers.submit(keys, options.durability, NewMessage(id, codec.encode(message), args))
            val result = EnqueueResult(id, EnqueueOutcome.valueOf(reply.outcome.uppercase()))
            bus.emit(QueueEvent.Enqueued(queue, id, result.outcome))
            backlog.observe(queue, reply.readyAfter)
            if (result.outcome == EnqueueOutcome.ADDED || result.outcome == EnqueueOutcome.UPDATED) {
                localWakes.wake(queue)
            }
            return result
        }

        /**
         * A worker of [queue] that runs [handler] on each delivery, [WorkerOptions.concurrency] at a time; started
         * unless [start] is false ([Worker.start]). Stop it with [Worker.stop].
         *
         * @throws InvalidSpecException if [queue] is blank or holds `{` or `}`.
         */
        @JvmSynthetic
        public fun worker(
            queue: String,
            options: WorkerOptions = WorkerOptions(),
            start: Boolean = true,
            handler: suspend (Delivery<T>) -> HandlerResult,
        ): Worker<T> {
            keys(queue)
            return Worker.create(this, queue, options, handler).also { if (start) it.start() }
        }

        /**
         * A worker of [queue] for Java: [handler] runs on the instance's handler executor (the one given to its
         * builder, or a view of kotlinx's IO threads; never the caller's), at most [WorkerOptions.concurrency] at a
         * time, and may block. A handler overrunning its lease is interrupted. A null result is an error
         * ([InvalidHandlerResultException]), retried like an exception. Started unless [start] is false.
         *
         * ```java
         * Worker<String> worker = queues.worker("mail", new WorkerOptions().concurrency(8), delivery -> {
         *     send(delivery.getMessage());
         *     return HandlerResult.success();
         * });
         * ```
         *
         * @throws InvalidSpecException if [queue] is blank or holds `{` or `}`.
         */
        @JvmOverloads
        public fun worker(
            queue: String,
            options: WorkerOptions,
            handler: Function<Delivery<T>, HandlerResult?>,
            start: Boolean = true,
        ): Worker<T> {
            keys(queue)
            val handlers = picket.handlers()
            val run: suspend (Delivery<T>) -> HandlerResult? = { d -> runInterruptible(handlers) { handler.apply(d) } }
            return Worker.create(this, queue, options, run).also { if (start) it.start() }
        }

        /**
         * The blocking form of every member here that waits for Redis, by the same name, for Java: each runs on the
         * calling thread, interruptibly (an interrupt throws `PicketInterruptedException`, the flag kept).
         */
        public fun blocking(): BlockingMessageQueues<T> = blocking

        /** The `CompletableFuture` form of every member here that waits for Redis, for Java: the same names. */
        public fun async(): AsyncMessageQueues<T> = async

        /** Counts of [queue] by state, totals, and the age of its oldest ready message. */
        @JvmSynthetic
        public suspend fun status(queue: String): QueueStatus {
            val s = ops.status(keys(queue))
            backlog.observe(queue, s[1])
            return queueStatus(queue, s)
        }

        /**
         * Message [id] of [queue]: where it is, its content (decoded; null once done, or if the codec cannot decode
         * it), attempts, times and last error. Null if the queue has no message with that id.
         */
        @JvmSynthetic
        public suspend fun messageStatus(
            queue: String,
            id: String,
        ): MessageInfo<T>? {
            val (_, f) = ops.message(keys(queue), id)
            return messageInfo(queue, id, f, codec)
        }

        /** The dead letters of [queue], newest first, [count] from index [start]. */
        @JvmSynthetic
        public suspend fun deadLetters(
            queue: String,
            start: Long = 0,
            count: Int = DEFAULT_DEAD_LETTER_PAGE,
        ): List<DeadLetter<T>> {
            if (start < 0 || count < 1) throw InvalidSpecException("dead letters from $start, count $count: bad range")
            return ops.deadLetters(keys(queue), start, count).map { f -> deadLetter(queue, f, codec) }
        }

        /**
         * Moves the dead letters [ids] of [queue] back to the ready list, attempts reset (the last error is kept).
         * Returns how many were dead and are queued again.
         */
        @JvmSynthetic
        public suspend fun requeueDead(
            queue: String,
            ids: Collection<String>,
        ): Long {
            if (ids.isEmpty()) return 0
            return ops.requeueDead(keys(queue), ids.toList()).also { if (it > 0) localWakes.wake(queue) }
        }

        /** Moves every dead letter of [queue] back to the ready list, oldest first; returns how many. */
        @JvmSynthetic
        public suspend fun requeueAllDead(queue: String): Long =
            ops.requeueDead(keys(queue), emptyList()).also { if (it > 0) localWakes.wake(queue) }

        /** The names of the queues that have had a message enqueued under this [prefix] and were not cleared since. */
        @JvmSynthetic
        public suspend fun queueNames(): Set<String> = ops.queueNames()

        /**
         * **Deletes [queue] and every message in it**, waiting, in flight, done and dead, and its totals: what is
         * deleted cannot be had back. Handlers running now find their lease gone when they finish. One script: on a
         * queue of millions of messages it holds the master for a while.
         */
        @JvmSynthetic
        public suspend fun clearQueueDeletingAllMessages(queue: String): ClearedQueue {
            val c = ops.clear(keys(queue))
            return ClearedQueue(queue, c[0], c[1], c[2], c[3], c[4])
        }

        /**
         * Warns with a [QueueEvent.BacklogHigh] when more than [threshold] messages of [queue] are ready, once per
         * crossing, until the handle is closed. Checked wherever this instance learns the ready list's length: every
         * enqueue through it (the length its `LPUSH` returned: no extra command), every [status] call, and every poll
         * of its workers. So a producer warns of a growing queue with no worker running at all; a monitoring process
         * can call [status] on a timer. A worker with [WorkerOptions.backlogWarning] registers one while it runs.
         * Delayed messages are not ready: they count once they fall due and a poll or status sees them.
         *
         * ```kotlin
         * queues.warnBacklogAbove("mail", 10_000)
         * queues.registerListener { if (it is QueueEvent.BacklogHigh) alert(it) }
         * ```
         *
         * @throws InvalidSpecException if [queue] is not a valid name or [threshold] is negative.
         */
        public fun warnBacklogAbove(
            queue: String,
            threshold: Long,
        ): AutoCloseable {
            keys(queue)
            if (threshold < 0) throw InvalidSpecException("backlog threshold is $threshold, must be >= 0")
            return backlog.register(queue, threshold)
        }

        /**
         * Registers [listener] for the events of every queue of this instance and its workers from now on; closing the
         * handle unregisters it. It runs on the coroutine that emits (see [QueueEvent]).
         */
        public fun registerListener(listener: QueueListener): AutoCloseable = bus.register(listener)

        /**
         * The events of every queue of this instance and its workers from the moment of collection on, as a cold flow;
         * collecting registers a listener, and events wait in an unbounded buffer for a slow collector (none is
         * dropped, and no emitter waits for the collector). It does not complete: stop collecting to unregister.
         */
        @get:JvmSynthetic
        public val events: Flow<QueueEvent> get() = bus.asFlow()

        /** Wakes this process's idle workers of [queue] on enqueues made here (other processes wake by pub/sub). */
        @JvmSynthetic
        internal fun onLocalEnqueue(
            queue: String,
            wake: () -> Unit,
        ): AutoCloseable = localWakes.register(queue, wake)

        /**
         * The keys of [queue].
         *
         * @throws InvalidSpecException if [queue] is blank or holds `{` or `}`.
         */
        @JvmSynthetic
        internal fun keys(queue: String): QueueKeys = keyCache.keys(queue)

        override fun toString(): String = "MessageQueues(${spec.target}, prefix=$prefix, codec=$codec)"

        public companion object {
            /** `picket:mq:`. */
            public const val DEFAULT_PREFIX: String = "picket:mq:"

            /** How many dead letters [deadLetters] lists when not told. */
            public const val DEFAULT_DEAD_LETTER_PAGE: Int = 100

            /**
             * String message queues on [spec]'s master, with the default prefix: `picket.queues(spec)` in Kotlin.
             *
             * ```java
             * MessageQueues<String> queues = MessageQueues.strings(picket, spec);
             * ```
             */
            @JvmStatic
            public fun strings(
                picket: Picket,
                spec: ConnSpec,
            ): MessageQueues<String> = MessageQueues(picket, spec, MessageCodec.STRING)
        }
    }
