package picket.pubsub

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.pubsub.RedisPubSubListener
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.future.await
import kotlinx.coroutines.future.future
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.ConnSpec
import picket.core.FailoverOutcome
import picket.core.InternalPicketApi
import picket.core.PicketClosedException
import picket.core.PicketEvent
import picket.core.ReadFrom
import picket.sentinel.Picket
import picket.sentinel.PubSubAttachment
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference
import java.util.function.Consumer

private val log = KotlinLogging.logger {}

/** A message handler: a suspend function, run on the listener's own coroutine, one message at a time. */
public typealias MessageHandler = suspend (PubSubMessage) -> Unit

/**
 * A subscriber connection that follows [spec] across failovers: it subscribes to every channel and pattern that has
 * a handler, and to those added with [subscribe] / [psubscribe], on the node [spec] resolves to (the master, or a
 * replica for a replica-reading spec: published messages reach replicas too). After a switch of the master, a
 * lost connection or a PING left unanswered, it resolves again, reconnects and subscribes again by itself, and
 * signals [PubSubSignal.Disconnected] and [PubSubSignal.Resumed] with the window in which messages may be missing.
 *
 * Messages go through a buffer ([ListenerOptions.bufferSize], [ListenerOptions.overflow]) to their handler, one at
 * a time, in the order the server sent them. A message matching both a channel subscription and a pattern
 * subscription arrives twice (Redis sends it once per subscription), once to each handler. A message whose topic
 * has no handler goes to the [fallback] handler, if any. A handler that throws is signalled
 * ([PubSubSignal.HandlerFailed]) and the listener goes on.
 *
 * Made by [listen] (Kotlin) or [PubSub.listen] (Java); [close] unsubscribes and closes the connection.
 */
@OptIn(InternalPicketApi::class)
// The facade: each capability has a Kotlin (suspend) and a Java (future, Consumer) form; (P)SUBSCRIBE take varargs.
@Suppress("TooManyFunctions", "SpreadOperator")
public class PubSubListener internal constructor(
    private val picket: Picket,
    /** What the listener subscribes through. */
    public val spec: ConnSpec,
    handlers: Map<Topic, MessageHandler>,
    private val options: ListenerOptions,
) : AutoCloseable {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-pubsub"))

    // By name, one map per kind: finding a message's handler creates nothing.
    private val channelHandlers = ConcurrentHashMap<String, MessageHandler>()
    private val patternHandlers = ConcurrentHashMap<String, MessageHandler>()
    private val channels = LinkedHashSet<String>()
    private val patterns = LinkedHashSet<String>()

    /** Serializes changes of the subscriptions with (re)subscribing on a new connection. */
    private val lock = Mutex()
    private val buffer = Channel<PubSubMessage>(options.bufferSize)
    private val wake = Channel<String>(Channel.CONFLATED)
    private val closed = AtomicBoolean(false)
    private val droppedCount = AtomicLong()
    private val signalQueue = Channel<PubSubSignal>(Channel.UNLIMITED)

    private val connected = MutableStateFlow(false)

    @Volatile
    private var current: PubSubAttachment? = null
        set(value) {
            field = value
            connected.value = value != null
        }

    /** The connection open now, subscribed or not yet: whoever takes it out of here closes it. */
    private val opened = AtomicReference<PubSubAttachment?>()

    @Volatile
    private var failoverStartedAt: Instant? = null

    @Volatile
    private var attemptToken: Any? = null

    @Volatile
    private var failedAttempts = 0

    /** Messages received from the server, for liveness: a connection that delivers is alive. */
    @Volatile
    private var delivered = 0L

    /** When delivery started waiting for room in a full buffer (SUSPEND), as nanoTime; 0 when it is not waiting. */
    @Volatile
    private var blockedSince = 0L

    /** Switches of this listener's master seen, and where the last one went: a switch during a reconnect counts. */
    private val switches = AtomicLong()

    @Volatile
    private var lastSwitchTo: Address? = null

    @Volatile
    private var lastVerifiedAt: Instant = Instant.now()

    /** Takes the messages whose topic has no handler; null (the default) ignores them. */
    @Volatile
    public var fallback: MessageHandler? = null

    /**
     * Sees every message first, on the connection's I/O thread, before it is buffered: returning true consumes it.
     * For Picket's own modules (the lock module wakes its waiters here, without a dispatch); it must not block.
     */
    @InternalPicketApi
    @Volatile
    public var interceptor: ((PubSubMessage) -> Boolean)? = null

    private val eventHandle: AutoCloseable

    /**
     * Waits until the listener is subscribed on a node (at first, or again after a failover), for at most
     * [timeout]; returns whether it is.
     */
    public suspend fun awaitConnected(timeout: Duration): Boolean =
        withTimeoutOrNull(timeout.toMillis()) { connected.first { it } } ?: false

    /** [awaitConnected] for Java, on the calling thread. */
    public fun awaitConnectedBlocking(timeout: Duration): Boolean = runBlocking { awaitConnected(timeout) }

    /** The node the listener is subscribed on now, or null while it is (re)connecting. */
    public val node: Address? get() = current?.address

    /** Whether it is subscribed on a node now. */
    public val isConnected: Boolean get() = current != null

    /** How many messages were dropped because the buffer was full ([ListenerOptions.Overflow.DROP_OLDEST]). */
    public val dropped: Long get() = droppedCount.get()

    /** The channels and patterns it is subscribed to, or will be once it has reconnected. */
    public fun subscriptions(): Subscriptions =
        synchronized(channels) { Subscriptions(channels.toSet(), patterns.toSet()) }

    /**
     * Subscribes to [names] (channels) and returns once the server confirmed; or, while the listener is
     * reconnecting, when the connection is lost meanwhile or no confirmation comes within the spec's command
     * timeout, once the change is recorded: the next connection subscribes to it ([subscriptions] shows it).
     *
     * @throws picket.core.InvalidSpecException if a name is empty; nothing is subscribed then.
     * @throws PicketClosedException if the listener is closed.
     */
    public suspend fun subscribe(vararg names: String): Unit = change(names.map { Topic.Channel(it) }, add = true)

    /** Subscribes to the patterns [globs], as [subscribe] does for channels. */
    public suspend fun psubscribe(vararg globs: String): Unit = change(globs.map { Topic.Pattern(it) }, add = true)

    /** Unsubscribes from the channels [names]; their handlers stay until removed. */
    public suspend fun unsubscribe(vararg names: String): Unit = change(names.map { Topic.Channel(it) }, add = false)

    /** Unsubscribes from the patterns [globs]; their handlers stay until removed. */
    public suspend fun punsubscribe(vararg globs: String): Unit = change(globs.map { Topic.Pattern(it) }, add = false)

    /** [subscribe] for Java. */
    public fun subscribeAsync(vararg names: String): CompletableFuture<Void?> = async { subscribe(*names) }

    /** [psubscribe] for Java. */
    public fun psubscribeAsync(vararg globs: String): CompletableFuture<Void?> = async { psubscribe(*globs) }

    /** [unsubscribe] for Java. */
    public fun unsubscribeAsync(vararg names: String): CompletableFuture<Void?> = async { unsubscribe(*names) }

    /** [punsubscribe] for Java. */
    public fun punsubscribeAsync(vararg globs: String): CompletableFuture<Void?> = async { punsubscribe(*globs) }

    /** Sets or replaces the handler of [topic]; it does not subscribe (see [subscribe]). */
    public fun setHandler(
        topic: Topic,
        handler: MessageHandler,
    ) {
        handlersOf(topic)[topic.name] = handler
    }

    /** Sets or replaces the handler of [topic] with a Java [handler], run on an I/O thread. */
    public fun setBlockingHandler(
        topic: Topic,
        handler: Consumer<PubSubMessage>,
    ) {
        handlersOf(topic)[topic.name] = blocking(handler)
    }

    /** Removes the handler of [topic]; its messages go to the [fallback] from now on. */
    public fun removeHandler(topic: Topic): Boolean = handlersOf(topic).remove(topic.name) != null

    private fun handlersOf(topic: Topic): ConcurrentHashMap<String, MessageHandler> =
        if (topic is Topic.Channel) channelHandlers else patternHandlers

    /** Sets the [fallback] handler from Java (null: none). */
    public fun setBlockingFallback(handler: Consumer<PubSubMessage>?) {
        fallback = handler?.let(::blocking)
    }

    /**
     * Unsubscribes and closes the connection, waiting for it to close (at most the spec's command timeout); the
     * handlers get no message after it returns. Calling it again does nothing.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        eventHandle.close()
        // Cancel, not close: it also releases an I/O thread held by a full buffer (Overflow.SUSPEND).
        buffer.cancel()
        wake.close()
        scope.cancel()
        opened.getAndSet(null)?.connection?.closeAsync()?.let {
            runCatching { it.get(spec.commandTimeout.toMillis(), TimeUnit.MILLISECONDS) }
        }
        current = null
        signalQueue.close()
    }

    override fun toString(): String = "PubSubListener(${spec.target}, ${subscriptions()}, node=$node)"

    private fun async(block: suspend () -> Unit): CompletableFuture<Void?> =
        scope.future {
            block()
            null
        }

    private fun blocking(handler: Consumer<PubSubMessage>): MessageHandler = blockingHandler(handler)

    private suspend fun change(
        topics: List<Topic>,
        add: Boolean,
    ) {
        if (closed.get()) throw PicketClosedException()
        if (topics.isEmpty()) return
        lock.withLock {
            synchronized(channels) {
                topics.forEach { topic ->
                    val set = if (topic is Topic.Channel) channels else patterns
                    if (add) set += topic.name else set -= topic.name
                }
            }
            val attachment = current ?: return
            val names = { kind: Class<out Topic> -> topics.filter { kind.isInstance(it) }.map { it.name } }
            val commands = attachment.connection.async()
            val channelNames = names(Topic.Channel::class.java).toTypedArray()
            val patternNames = names(Topic.Pattern::class.java).toTypedArray()
            try {
                withTimeoutOrNull(spec.commandTimeout.toMillis()) {
                    if (channelNames.isNotEmpty()) {
                        (if (add) commands.subscribe(*channelNames) else commands.unsubscribe(*channelNames)).await()
                    }
                    if (patternNames.isNotEmpty()) {
                        (if (add) commands.psubscribe(*patternNames) else commands.punsubscribe(*patternNames)).await()
                    }
                }
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                // Lettuce cancels commands of a connection it closes; the caller was not cancelled.
                e.failIfOwnCancellation()
                // The connection is going: the next one subscribes to what is wanted now.
                log.debug(e) { "subscription change on ${attachment.address} deferred to the next connection" }
            }
        }
    }

    private fun signal(signal: PubSubSignal) {
        if (options.onSignal != null) signalQueue.trySend(signal)
    }

    private fun tell(signal: PubSubSignal) {
        val listener = options.onSignal ?: return
        try {
            listener.onSignal(signal)
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            log.warn(e) { "a pub/sub signal listener threw on $signal" }
        }
    }

    private fun onPicketEvent(event: PicketEvent) {
        if (spec.isDirect || event.group != spec.sentinelGroup) return
        when (event) {
            is PicketEvent.FailoverStarted -> {
                if (event.masterName == spec.masterName) failoverStartedAt = Instant.now()
            }

            is PicketEvent.FailoverEnded -> {
                // An aborted or timed-out failover moved nothing: it bounds no later gap.
                if (event.masterName == spec.masterName && event.outcome != FailoverOutcome.SWITCHED) {
                    failoverStartedAt = null
                }
            }

            is PicketEvent.SwitchMaster -> {
                // A replica subscription goes on across a switch: its node stays a replica of the new master.
                val following = current?.address
                val ours = event.masterName == spec.masterName && spec.readFrom == ReadFrom.Master
                if (ours) {
                    lastSwitchTo = event.newAddress
                    switches.incrementAndGet()
                    if (following == null || following == event.oldAddress) {
                        wake.trySend("${event.masterName} switched to ${event.newAddress}")
                    }
                }
            }

            else -> {
                return
            }
        }
    }

    /** Whether the [interceptor] consumed [message]; one that throws is signalled and the message buffered. */
    private fun intercepted(message: PubSubMessage): Boolean {
        val interceptor = interceptor ?: return false
        return try {
            interceptor(message)
        } catch (
            // Nothing may escape onto Lettuce's I/O thread.
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            signal(PubSubSignal.HandlerFailed(message, e))
            false
        }
    }

    /** Called by Lettuce on its I/O thread: buffers the message, or applies the overflow policy. */
    private fun deliver(message: PubSubMessage) {
        // One writer (the connection's I/O thread): a plain volatile increment is enough.
        delivered++
        if (intercepted(message)) return
        val sent = buffer.trySend(message)
        if (sent.isSuccess || sent.isClosed) return
        when (options.overflow) {
            // Holding the I/O thread stops reading the socket: the server buffers, nothing is lost while connected.
            ListenerOptions.Overflow.SUSPEND -> {
                blockedSince = System.nanoTime()
                try {
                    buffer.trySendBlocking(message)
                } finally {
                    blockedSince = 0L
                }
            }

            ListenerOptions.Overflow.DROP_OLDEST -> {
                dropOldestFor(message)
            }
        }
    }

    /** Drops the oldest buffered messages, counted and signalled, until [message] fits. */
    private fun dropOldestFor(message: PubSubMessage) {
        while (true) {
            val sent = buffer.trySend(message)
            if (sent.isSuccess || sent.isClosed) return
            buffer.tryReceive().getOrNull()?.let { oldest ->
                signal(PubSubSignal.Dropped(oldest, droppedCount.incrementAndGet()))
            }
        }
    }

    private suspend fun dispatch() {
        for (message in buffer) {
            val pattern = message.pattern
            val handler =
                (if (pattern == null) channelHandlers[message.channel] else patternHandlers[pattern])
                    ?: fallback
                    ?: continue
            try {
                handler(message)
            } catch (e: CancellationException) {
                if (!scope.isActive) throw e
                signal(PubSubSignal.HandlerFailed(message, e))
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                signal(PubSubSignal.HandlerFailed(message, e))
            }
        }
    }

    private val adapter =
        object : RedisPubSubListener<String, String> {
            override fun message(
                channel: String,
                message: String,
            ) = deliver(PubSubMessage(channel, null, message))

            override fun message(
                pattern: String,
                channel: String,
                message: String,
            ) = deliver(PubSubMessage(channel, pattern, message))

            override fun subscribed(
                channel: String,
                count: Long,
            ) = signal(PubSubSignal.Subscribed(Topic.Channel(channel), count))

            override fun psubscribed(
                pattern: String,
                count: Long,
            ) = signal(PubSubSignal.Subscribed(Topic.Pattern(pattern), count))

            override fun unsubscribed(
                channel: String,
                count: Long,
            ) = signal(PubSubSignal.Unsubscribed(Topic.Channel(channel), count))

            override fun punsubscribed(
                pattern: String,
                count: Long,
            ) = signal(PubSubSignal.Unsubscribed(Topic.Pattern(pattern), count))
        }

    /** Connects, subscribes, watches the connection, and starts again when it must be replaced; until closed. */
    private suspend fun follow() {
        var previous: Address? = null
        var gapStart: Instant? = null
        while (scope.isActive && !closed.get()) {
            val switchesBefore = switches.get()
            val attachment =
                try {
                    open() ?: continue
                } catch (e: PicketClosedException) {
                    log.debug(e) { "Picket closed under a pub/sub listener" }
                    return
                }
            opened.set(attachment)
            val reason =
                try {
                    serve(attachment, previous, gapStart, switchesBefore)
                } finally {
                    current = null
                    attemptToken = null
                    // A replaced connection delivers nothing more, even from an I/O thread still holding a message.
                    attachment.connection.removeListener(adapter)
                    // Closed once: here, unless close() took it first (Lettuce warns at a second close).
                    if (opened.compareAndSet(attachment, null)) attachment.connection.closeAsync()
                }
            if (closed.get()) return
            val startedAt = failoverStartedAt
            gapStart = if (startedAt != null && startedAt < lastVerifiedAt) startedAt else lastVerifiedAt
            previous = attachment.address
            log.info { "pub/sub listener on ${attachment.address} for ${spec.target}: $reason; resubscribing" }
            signal(PubSubSignal.Disconnected(attachment.address, Instant.now(), reason))
        }
    }

    /**
     * A new connection, or null after a failed attempt and its back-off wait (cut short by a switch).
     *
     * @throws PicketClosedException if Picket was closed.
     */
    private suspend fun open(): PubSubAttachment? {
        // Only this attempt's connection may wake the listener when it closes, not one closed before.
        val token = Any()
        attemptToken = token
        return try {
            picket.openPubSub(spec) { if (attemptToken === token) wake.trySend("the connection closed") }
        } catch (e: PicketClosedException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            // Lettuce cancels commands of a connection it closes; only the listener's own cancellation ends it.
            e.failIfOwnCancellation()
            failedAttempts++
            val wait = backoff(failedAttempts)
            signal(PubSubSignal.ReconnectFailed(failedAttempts, e, wait))
            withTimeoutOrNull(wait.toMillis()) { wake.receiveCatching() }
            null
        }
    }

    /** Subscribes on [attachment], signals it, and watches it; returns why it must be replaced. */
    private suspend fun serve(
        attachment: PubSubAttachment,
        previous: Address?,
        gapStart: Instant?,
        switchesBefore: Long,
    ): String =
        try {
            attachment.connection.addListener(adapter)
            val sentAt = subscribeAll(attachment, switchesBefore)
            val resumedAt = Instant.now()
            // Everything published after the server took the SUBSCRIBE arrives: the next gap starts no later.
            lastVerifiedAt = sentAt
            failoverStartedAt = null
            failedAttempts = 0
            if (previous == null || gapStart == null) {
                signal(PubSubSignal.Connected(attachment.address, resumedAt))
            } else {
                signal(PubSubSignal.Resumed(attachment.address, previous, gapStart, resumedAt))
            }
            watch(attachment)
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            // Lettuce cancels commands of a connection it closes; only the listener's own cancellation ends it.
            e.failIfOwnCancellation()
            if (closed.get()) "the listener closed" else "subscribing failed: ${e.message}"
        }

    /**
     * Subscribes [attachment] to everything wanted, then makes it current; under [lock], so no change is missed.
     * Returns when the subscriptions were sent.
     *
     * @throws IllegalStateException if the master switched to another node since [switchesBefore] was read (the
     *   connection may be on the old master), or the subscriptions were not confirmed in time.
     */
    private suspend fun subscribeAll(
        attachment: PubSubAttachment,
        switchesBefore: Long,
    ): Instant =
        lock.withLock {
            val (wantedChannels, wantedPatterns) = subscriptions()
            val commands = attachment.connection.async()
            val sentAt = Instant.now()
            val done =
                withTimeoutOrNull(spec.commandTimeout.toMillis()) {
                    if (wantedChannels.isNotEmpty()) commands.subscribe(*wantedChannels.toTypedArray()).await()
                    if (wantedPatterns.isNotEmpty()) commands.psubscribe(*wantedPatterns.toTypedArray()).await()
                    true
                }
            check(done == true) { "no subscription confirmed within ${spec.commandTimeout.toMillis()} ms" }
            if (switches.get() != switchesBefore) {
                val to = lastSwitchTo
                check(to == attachment.address) { "the master switched to $to while subscribing" }
                // The switch went to this very node: its wake-up is stale.
                wake.tryReceive()
            }
            check(attachment.connection.isOpen) { "the connection closed while subscribing" }
            current = attachment
            sentAt
        }

    /** Returns why [attachment] must be replaced: a switch, its close, or a PING left unanswered. */
    private suspend fun watch(attachment: PubSubAttachment): String {
        val commands = attachment.connection.async()
        while (true) {
            withTimeoutOrNull(options.pingInterval.toMillis()) { wake.receiveCatching() }?.let {
                return it.getOrNull() ?: "the listener closed"
            }
            val sentAt = Instant.now()
            val deliveredBefore = delivered
            val answered =
                try {
                    withTimeoutOrNull(options.pingTimeout.toMillis()) { commands.ping().await() } != null
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    e.failIfOwnCancellation()
                    return "PING failed: ${e.message}"
                }
            // The reply may wait behind messages the server sent first, or behind a full buffer holding the I/O
            // thread: a connection that delivered meanwhile, or is waiting to, is alive. (No new gap bound, though.)
            if (!answered && (delivered != deliveredBefore || blockedSince != 0L)) continue
            if (!answered) return "no PING reply within ${options.pingTimeout.toMillis()} ms"
            lastVerifiedAt = sentAt
        }
    }

    private fun backoff(attempt: Int): Duration {
        val doubled = options.reconnectMin.toMillis() shl (attempt - 1).coerceAtMost(MAX_SHIFT)
        return Duration.ofMillis(doubled.coerceAtMost(options.reconnectMax.toMillis()))
    }

    // Last in the class: the coroutines it starts use every property above, which must be set by then.
    init {
        handlers.forEach { (topic, handler) ->
            handlersOf(topic)[topic.name] = handler
            when (topic) {
                is Topic.Channel -> channels += topic.name
                is Topic.Pattern -> patterns += topic.name
            }
        }
        eventHandle = picket.registerListener(::onPicketEvent)
        scope.launch { for (signal in signalQueue) tell(signal) }
        scope.launch { dispatch() }
        scope.launch { follow() }
    }

    private companion object {
        const val MAX_SHIFT = 20
    }
}

/** A Java [handler] as a [MessageHandler], run on an I/O thread. */
internal fun blockingHandler(handler: Consumer<PubSubMessage>): MessageHandler =
    { message -> withContext(Dispatchers.IO) { handler.accept(message) } }

/**
 * Rethrows if this is the caller's own cancellation. Lettuce also cancels the commands of a connection it closes:
 * that is a failure of the connection, to be handled as such.
 */
private suspend fun Exception.failIfOwnCancellation() {
    if (this is CancellationException) currentCoroutineContext().ensureActive()
}
