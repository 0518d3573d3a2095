package picket.mq

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.LMoveArgs
import io.lettuce.core.codec.ByteArrayCodec
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.runInterruptible
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.ReadFrom
import picket.core.internal.ListenerBus
import picket.core.internal.handlers
import picket.mq.internal.ListHandling
import picket.mq.internal.ListNames
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.function.Function

private val log = KotlinLogging.logger {}

/**
 * A durable listener for any Redis list that producers fill with plain `LPUSH`, from any client (`redis-cli LPUSH
 * jobs hello`): TwiceRedis's `Listener`, done better. Each message is moved atomically to a processing list
 * ([processingList]), handed to the handler, and removed from the processing list only once the handler returned; a
 * handler that throws runs again, and after [ListListenerOptions.maxAttempts] runs the message moves to
 * [deadList]. Runs are counted on the master ([attemptsHash]) once one failed or was interrupted, so a message that
 * crashes its listener every time is dead-lettered too, across restarts. Follows the master through Picket's
 * resolver; while Redis is down it keeps trying with capped backoff. It reports what it does as [ListEvent]s, to
 * [registerListener], [events] and, from the very first, [ListListenerOptions.onEvent].
 *
 * ```kotlin
 * val listener = ListListener(picket, spec, "jobs") { message -> process(message); message }
 * launch { listener.listen() }   // until listener.stop()
 * ```
 *
 * Java: a listener made with [create] (its handler runs on the instance's handler executor), then [blocking] or
 * [async] for the members that wait for Redis, by the same names:
 *
 * ```java
 * ListListener listener = ListListener.create(picket, spec, "jobs", message -> process(message));
 * String result = listener.blocking().getMessage();      // null when the list is empty
 * CompletableFuture<Void> done = listener.async().listen();  // until listener.stop()
 * ```
 *
 * @throws InvalidSpecException if [list] is blank or [ListListenerOptions.readTime] is not below the spec's command
 *   timeout.
 */
@OptIn(InternalPicketApi::class)
public class ListListener private constructor(
    @get:JvmSynthetic internal val picket: Picket,
    spec: ConnSpec,
    /** The list producers `LPUSH` to. */
    public val list: String,
    /** How it names its lists, waits, retries and reconnects. */
    public val options: ListListenerOptions,
    private val handler: suspend (String) -> String?,
) {
    /**
     * A listener whose handler logs each message and returns it ([LOG_AND_RETURN], TwiceRedis's default).
     *
     * @throws InvalidSpecException if [list] is blank or [ListListenerOptions.readTime] is not below the spec's
     *   command timeout.
     */
    @JvmOverloads
    public constructor(
        picket: Picket,
        spec: ConnSpec,
        list: String,
        options: ListListenerOptions = ListListenerOptions(),
    ) : this(picket, spec, list, options, DEFAULT_HANDLER)

    /** The listener works on the master, whatever the spec reads from. */
    public val spec: ConnSpec = spec.copy(readFrom = ReadFrom.Master)

    /** Where messages wait while they are handled: the list's name and [ListListenerOptions.processingSuffix]. */
    public val processingList: String = list + options.processingSuffix

    /** Where messages go whose handler failed every attempt. */
    public val deadList: String = list + options.deadSuffix

    /**
     * A hash of the attempts of messages that failed or were found in the processing list by a recovery: message
     * to runs begun so far. A message handled at the first try never enters it.
     */
    public val attemptsHash: String = processingList + ATTEMPTS_SUFFIX

    private val listening = AtomicBoolean(false)
    private val blocking = BlockingListListener(this)
    private val async = AsyncListListener(this)

    private val bus =
        ListenerBus.onEmitter<ListEvent, ListEventListener> { listener, event -> listener.onEvent(event) }.also {
            options.onEvent?.let(it::register)
        }

    /** Completed by [stop], for good: a stopped listener does not listen again. */
    private val stopped = CompletableDeferred<Unit>()

    private val names = ListNames(list, processingList, deadList, attemptsHash)

    private val handling =
        ListHandling(
            picket,
            this.spec,
            names,
            options,
            handler,
            stopped,
            ::emit,
        )

    init {
        if (list.isBlank()) throw InvalidSpecException("list name is blank")
        if (options.readTime >= spec.commandTimeout) {
            throw InvalidSpecException(
                "list listener readTime ${options.readTime.toMillis()} ms must be below the spec's " +
                    "commandTimeout ${spec.commandTimeout.toMillis()} ms, or every idle read would time out",
            )
        }
    }

    /**
     * Registers [listener] for the events from now on; closing the handle unregisters it. It runs on the coroutine
     * the listener runs on, before that goes on (see [ListEventListener]).
     */
    public fun registerListener(listener: ListEventListener): AutoCloseable = bus.register(listener)

    /**
     * The events from the moment of collection on, as a cold flow; collecting registers a listener, and events wait
     * in an unbounded buffer for a slow collector (the listener never waits for it). It does not complete: stop
     * collecting to unregister.
     */
    @get:JvmSynthetic
    public val events: Flow<ListEvent> get() = bus.asFlow()

    /** True while [listen] runs. */
    public val isListening: Boolean get() = listening.get()

    /**
     * Handles messages for as long as it runs: first those left in the processing list (by a listener that
     * crashed), then each new one, waiting at most [ListListenerOptions.readTime] per read. Redis failing (down,
     * a failover, a paused master) makes it back off and try again, for any length of time; after that it
     * recovers the processing list again (a message moved just before the failure is not lost) and carries on.
     * Returns once [stop] is called, within the read time (after the message being handled, if any); at once,
     * without reading, if [stop] was called before (even before this call: a stop is never lost to a race with the
     * start).
     *
     * @throws IllegalStateException if this listener is already listening.
     */
    @JvmSynthetic
    public suspend fun listen() {
        check(listening.compareAndSet(false, true)) { "the listener of list '$list' is already listening" }
        try {
            loop()
        } finally {
            listening.set(false)
        }
    }

    /**
     * Ends [listen] within the read time, or, called before [listen], makes it return at once. A stopped listener
     * stays stopped (like a [Worker]): make another one to listen again.
     */
    public fun stop() {
        stopped.complete(Unit)
    }

    /**
     * One message, handled, without waiting: the handler's result, or null when the list is empty.
     *
     * @throws MessageDeadLetteredException if the handler failed on it every attempt (it is in [deadList] now).
     * @throws picket.core.PicketException or Lettuce's exception when Redis fails, never null for an error.
     */
    @JvmSynthetic
    public suspend fun getMessage(): String? {
        val message =
            picket.withConn(spec, ByteArrayCodec.INSTANCE) {
                lmove(names.listKey, names.processingKey, LMoveArgs.Builder.rightLeft())
            }
        return message?.let { handling.process(it) }
    }

    /**
     * The blocking form of [listen], [getMessage] and [recover], for Java: on the calling thread, interruptibly (an
     * interrupt throws `PicketInterruptedException`, the flag kept).
     */
    public fun blocking(): BlockingListListener = blocking

    /** The `CompletableFuture` form of [listen], [getMessage] and [recover], for Java. */
    public fun async(): AsyncListListener = async

    /**
     * Handles every message in the processing list now, oldest first; returns how many. [listen] does this at
     * start and after Redis failed.
     */
    @JvmSynthetic
    public suspend fun recover(): Int = handling.recover()

    private suspend fun loop() {
        var recover = true
        var failures = 0
        var downSince = 0L
        while (!stopped.isCompleted) {
            try {
                if (recover) handling.recover()
                recover = false
                val message =
                    picket.withDedicatedConn(spec, ByteArrayCodec.INSTANCE) {
                        blmove(
                            names.listKey,
                            names.processingKey,
                            LMoveArgs.Builder.rightLeft(),
                            options.readTime.toMillis() / MS,
                        )
                    }
                if (failures > 0) {
                    emit(ListEvent.Reconnected(failures, Duration.ofNanos(System.nanoTime() - downSince)))
                    failures = 0
                }
                if (message != null) handling.process(message)
            } catch (e: CancellationException) {
                throw e
            } catch (e: MessageDeadLetteredException) {
                log.debug { e.message }
            } catch (
                // Redis down, a failover, a paused master: back off and try again, for as long as it lasts.
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                if (failures++ == 0) downSince = System.nanoTime()
                recover = true
                val wait = handling.backoff(failures)
                emit(ListEvent.ConnectionFailed(e, failures, wait))
                handling.pause(wait)
            }
        }
    }

    private fun emit(event: ListEvent) = bus.emit(event)

    override fun toString(): String = "ListListener(${spec.target}, list=$list, processing=$processingList)"

    public companion object {
        private const val MS = 1000.0

        /** Appended to the processing list's name: [attemptsHash]. */
        public const val ATTEMPTS_SUFFIX: String = ":attempts"

        /** The default handler: logs the message and returns it (TwiceRedis's). */
        @JvmField
        public val LOG_AND_RETURN: Function<String, String?> =
            Function { message ->
                log.info { "list message: $message" }
                message
            }

        private val DEFAULT_HANDLER: suspend (String) -> String? = { LOG_AND_RETURN.apply(it) }

        /**
         * A listener of [list] whose [handler] is Kotlin code, run on the listener's coroutine:
         * `ListListener(picket, spec, "jobs") { message -> process(message); message }`.
         *
         * @throws InvalidSpecException if [list] is blank or [ListListenerOptions.readTime] is not below the
         *   spec's command timeout.
         */
        @JvmSynthetic
        public operator fun invoke(
            picket: Picket,
            spec: ConnSpec,
            list: String,
            options: ListListenerOptions = ListListenerOptions(),
            handler: suspend (String) -> String?,
        ): ListListener = ListListener(picket, spec, list, options, handler)

        /**
         * A listener of [list] for Java: [handler] runs on the instance's handler executor (the one given to its
         * builder, or a view of kotlinx's IO threads; never the caller's) and may block; cancelling the call
         * it runs in (an interrupted blocking `listen()`, a cancelled future) interrupts it.
         *
         * ```java
         * ListListener listener = ListListener.create(picket, spec, "jobs", message -> message.toUpperCase());
         * ```
         *
         * @throws InvalidSpecException if [list] is blank or [ListListenerOptions.readTime] is not below the
         *   spec's command timeout.
         */
        @JvmStatic
        @JvmOverloads
        public fun create(
            picket: Picket,
            spec: ConnSpec,
            list: String,
            handler: Function<String, String?>,
            options: ListListenerOptions = ListListenerOptions(),
        ): ListListener {
            val handlers = picket.handlers()
            return ListListener(picket, spec, list, options) { message ->
                runInterruptible(handlers) { handler.apply(message) }
            }
        }
    }
}
