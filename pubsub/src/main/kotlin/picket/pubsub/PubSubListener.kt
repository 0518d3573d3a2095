package picket.pubsub

import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.engine.JavaCalls
import picket.core.internal.ListenerBus
import picket.core.internal.handlers
import picket.core.internal.javaCalls
import picket.pubsub.internal.CurrentConnection
import picket.pubsub.internal.Follower
import picket.pubsub.internal.HandlerTable
import picket.pubsub.internal.Inbox
import picket.pubsub.internal.WantedTopics
import picket.pubsub.internal.javaHandler
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.function.Consumer

/**
 * A message handler: a suspend function, run on the listener's own coroutine, one message at a time. Java gives a
 * `Consumer<PubSubMessage>` instead ([PubSub.listen], [PubSubListener.setBlockingHandler]).
 */
public typealias MessageHandler = suspend (PubSubMessage) -> Unit

/**
 * A subscriber connection that follows [spec] across failovers: it subscribes to every channel and pattern that has
 * a handler, and to those added with [subscribe] / [psubscribe], on the node [spec] resolves to (the master, or a
 * replica for a replica-reading spec: published messages reach replicas too). After a switch of the master, a
 * lost connection or a PING left unanswered, it resolves again, reconnects and subscribes again by itself, and
 * emits [PubSubEvent.Disconnected] and [PubSubEvent.Resumed] with the window in which messages may be missing.
 *
 * Messages go through a buffer ([ListenerOptions.bufferSize], [ListenerOptions.overflow]) to their handler, one at
 * a time, in the order the server sent them. A message matching both a channel subscription and a pattern
 * subscription arrives twice (Redis sends it once per subscription), once to each handler. A message whose topic
 * has no handler goes to the [fallback] handler, if any. A handler that throws is reported
 * ([PubSubEvent.HandlerFailed]) and the listener goes on.
 *
 * Its [PubSubEvent]s reach the listeners registered with [registerListener], the collectors of [events] and, from
 * the very first, [ListenerOptions.onEvent]: in order, on a coroutine of the listener's own (never on the
 * connection's I/O thread, which never waits for them); one that throws is logged and the others still run.
 *
 * Made by [listen] (Kotlin) or [PubSub.listen] (Java); [close] unsubscribes and closes the connection. The members
 * that wait for Redis are `suspend` for Kotlin; Java calls them by the same names on [blocking] (on the calling
 * thread) or [async] (as futures).
 *
 * ```java
 * listener.blocking().awaitConnected(Duration.ofSeconds(10));
 * listener.setBlockingHandler(Topic.channel("audit"), m -> audit(m.getPayload()));
 * listener.async().subscribe("audit").join();
 * ```
 */
@OptIn(InternalPicketApi::class)
public class PubSubListener private constructor(
    picket: Picket,
    /** What the listener subscribes through. */
    public val spec: ConnSpec,
    handlers: Map<Topic, MessageHandler>,
    options: ListenerOptions,
) : AutoCloseable {
    private val javaHandlers = picket.handlers()

    /** How the [blocking] and [async] views run the suspend members (Picket's Java convention). */
    @get:JvmSynthetic
    internal val calls: JavaCalls = picket.javaCalls()

    private val blocking = BlockingPubSubListener(this)
    private val async = AsyncPubSubListener(this)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-pubsub"))
    private val closed = AtomicBoolean(false)
    private val table = HandlerTable(handlers)
    private val wanted = WantedTopics(handlers.keys, spec.commandTimeout)
    private val bus =
        ListenerBus<PubSubEvent, PubSubEventListener>(scope, javaHandlers, PubSubEventListener::onEvent).also { bus ->
            options.onEvent?.let(bus::register)
        }
    private val inbox = Inbox(options, table, bus)
    private val connection = CurrentConnection()
    private val follower = Follower(picket, spec, options, connection, wanted, inbox, bus, closed::get)
    private val eventHandle: AutoCloseable = picket.registerListener(follower::onPicketEvent)

    /** Takes the messages whose topic has no handler; null (the default) ignores them. Java: [setBlockingFallback]. */
    @get:JvmSynthetic
    @set:JvmSynthetic
    public var fallback: MessageHandler?
        get() = table.fallback
        set(value) {
            table.fallback = value
        }

    /**
     * Waits until the listener is subscribed on a node (at first, or again after a failover), for at most
     * [timeout]; returns whether it is. Java: `blocking().awaitConnected(timeout)` or `async().awaitConnected(…)`.
     */
    @JvmSynthetic
    public suspend fun awaitConnected(timeout: Duration): Boolean = connection.awaitConnected(timeout)

    /** The node the listener is subscribed on now, or null while it is (re)connecting. */
    public val node: Address? get() = connection.current?.address

    /** Whether it is subscribed on a node now. */
    public val isConnected: Boolean get() = connection.current != null

    /**
     * Registers [listener] for the events from now on; closing the handle unregisters it. The first events (the first
     * subscriptions, [PubSubEvent.Connected]) may come before this call returns: [ListenerOptions.onEvent] hears those.
     */
    public fun registerListener(listener: PubSubEventListener): AutoCloseable = bus.register(listener)

    /**
     * The events from the moment of collection on, as a cold flow; collecting registers a listener, and events wait in
     * an unbounded buffer for a slow collector. It completes when the listener is closed.
     */
    @get:JvmSynthetic
    public val events: Flow<PubSubEvent> get() = bus.asFlow()

    /** How many messages were dropped because the buffer was full ([ListenerOptions.Overflow.DROP_OLDEST]). */
    public val dropped: Long get() = inbox.dropped

    /** The channels and patterns it is subscribed to, or will be once it has reconnected. */
    public fun subscriptions(): Subscriptions = wanted.snapshot()

    /**
     * Subscribes to [names] (channels) and returns once the server confirmed; or, while the listener is
     * reconnecting, when the connection is lost meanwhile or no confirmation comes within the spec's command
     * timeout, once the change is recorded: the next connection subscribes to it ([subscriptions] shows it).
     *
     * @throws picket.core.InvalidSpecException if a name is empty; nothing is subscribed then.
     * @throws PicketClosedException if the listener is closed.
     */
    @JvmSynthetic
    public suspend fun subscribe(vararg names: String): Unit = change(names.map { Topic.Channel(it) }, add = true)

    /** Subscribes to the patterns [globs], as [subscribe] does for channels. */
    @JvmSynthetic
    public suspend fun psubscribe(vararg globs: String): Unit = change(globs.map { Topic.Pattern(it) }, add = true)

    /** Unsubscribes from the channels [names]; their handlers stay until removed. */
    @JvmSynthetic
    public suspend fun unsubscribe(vararg names: String): Unit = change(names.map { Topic.Channel(it) }, add = false)

    /** Unsubscribes from the patterns [globs]; their handlers stay until removed. */
    @JvmSynthetic
    public suspend fun punsubscribe(vararg globs: String): Unit = change(globs.map { Topic.Pattern(it) }, add = false)

    /**
     * The blocking form of [awaitConnected], [subscribe], [psubscribe], [unsubscribe] and [punsubscribe], for Java:
     * the same names, run on the calling thread ([BlockingPubSubListener]).
     */
    public fun blocking(): BlockingPubSubListener = blocking

    /** The `CompletableFuture` form of the same members, for Java ([AsyncPubSubListener]). */
    public fun async(): AsyncPubSubListener = async

    /**
     * Sets or replaces the handler of [topic]; it does not subscribe (see [subscribe]). Java:
     * [setBlockingHandler].
     */
    @JvmSynthetic
    public fun setHandler(
        topic: Topic,
        handler: MessageHandler,
    ) {
        table.set(topic, handler)
    }

    /**
     * Sets or replaces the handler of [topic] with a Java [handler]; it does not subscribe (see [subscribe]). It runs
     * on the instance's handler executor (the one given to Picket's builder, or kotlinx's IO threads), one
     * message at a time, in the order the server sent them, like every handler of the listener; closing the listener
     * interrupts it if it is still running.
     */
    public fun setBlockingHandler(
        topic: Topic,
        handler: Consumer<PubSubMessage>,
    ) {
        table.set(topic, javaHandler(handler, javaHandlers))
    }

    /** Removes the handler of [topic]; its messages go to the [fallback] from now on. */
    public fun removeHandler(topic: Topic): Boolean = table.remove(topic)

    /** Sets the [fallback] handler from Java (null: none); it runs as [setBlockingHandler]'s handlers do. */
    public fun setBlockingFallback(handler: Consumer<PubSubMessage>?) {
        fallback = handler?.let { javaHandler(it, javaHandlers) }
    }

    /**
     * Unsubscribes and closes the connection, waiting for it to close (at most the spec's command timeout); the
     * handlers get no message after it returns. Calling it again does nothing.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        eventHandle.close()
        inbox.close()
        follower.close()
        scope.cancel()
        connection.close(spec.commandTimeout)
        bus.close()
    }

    override fun toString(): String = "PubSubListener(${spec.target}, ${subscriptions()}, node=$node)"

    private suspend fun change(
        topics: List<Topic>,
        add: Boolean,
    ) {
        if (closed.get()) throw PicketClosedException()
        if (topics.isEmpty()) return
        wanted.change(topics, add) { connection.current }
    }

    // Last in the class: the coroutines it starts use every property above, which must be set by then.
    init {
        scope.launch { inbox.dispatch() }
        scope.launch { follower.follow() }
    }

    internal companion object {
        /** A listener of [handlers] through [spec]; made by `listen` and [PubSub] only (hidden from Java). */
        @JvmSynthetic
        fun of(
            picket: Picket,
            spec: ConnSpec,
            handlers: Map<Topic, MessageHandler>,
            options: ListenerOptions,
        ): PubSubListener = PubSubListener(picket, spec, handlers, options)
    }
}
