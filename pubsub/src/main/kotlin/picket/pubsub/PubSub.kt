package picket.pubsub

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.ReadFrom
import picket.core.engine.PubSubAttachment
import picket.core.internal.handlers
import picket.pubsub.internal.javaHandler
import java.util.function.Consumer

/**
 * A listener on [spec] with [handlers] keyed by channel or pattern, each subscribed at once. See [PubSubListener].
 * Java: [PubSub.listen].
 *
 * ```kotlin
 * val listener = picket.listen(spec, mapOf(Topic.channel("orders") to { m -> println(m.payload) }))
 * ```
 *
 * On a closed Picket the listener never connects.
 */
@JvmSynthetic
public fun Picket.listen(
    spec: ConnSpec,
    handlers: Map<Topic, MessageHandler>,
    options: ListenerOptions = ListenerOptions(),
): PubSubListener = PubSubListener.of(this, spec, handlers, options)

/**
 * The messages of [channels] as a cold flow: each collection subscribes on a listener of its own, which follows
 * failovers like any [PubSubListener], and unsubscribes and closes it when the collector stops. A slow collector
 * fills the listener's buffer ([ListenerOptions.overflow] says what then).
 *
 * @throws picket.core.InvalidSpecException if a channel name is empty.
 */
@JvmSynthetic
public fun Picket.subscribe(
    spec: ConnSpec,
    channels: List<String>,
    options: ListenerOptions = ListenerOptions(),
): Flow<PubSubMessage> = flowOf(spec, channels.map { Topic.Channel(it) }, options)

/** The messages of the patterns [globs] as a cold flow, as [subscribe] does for channels. */
@JvmSynthetic
public fun Picket.psubscribe(
    spec: ConnSpec,
    globs: List<String>,
    options: ListenerOptions = ListenerOptions(),
): Flow<PubSubMessage> = flowOf(spec, globs.map { Topic.Pattern(it) }, options)

/**
 * Publishes [message] on [channel] through the master of [spec] (a replica-reading spec publishes on the master
 * too: a message published on a replica reaches only that replica's subscribers) and returns how many subscribers
 * of that node received it. The text goes as UTF-8 bytes; the bytes form below publishes any payload. Java:
 * `new PubSub(picket).blocking().publish(…)` or `.async().publish(…)`.
 *
 * @throws picket.core.InvalidSpecException if [channel] is empty.
 */
@JvmSynthetic
public suspend fun Picket.publish(
    spec: ConnSpec,
    channel: String,
    message: String,
): Long = publish(spec, channel, message.toByteArray(Charsets.UTF_8))

/**
 * Publishes the bytes [message] on [channel], as the text form does: a listener receives exactly these bytes
 * ([PubSubMessage.payloadBytes]). For serialized objects, or any payload that is not UTF-8 text.
 *
 * ```kotlin
 * picket.publish(spec, "orders", order.toByteArray())
 * ```
 *
 * @throws picket.core.InvalidSpecException if [channel] is empty.
 */
@JvmSynthetic
@OptIn(InternalPicketApi::class)
public suspend fun Picket.publish(
    spec: ConnSpec,
    channel: String,
    message: ByteArray,
): Long {
    Topic.Channel(channel)
    // The pub/sub connections' codec: the channel as UTF-8, the message as it is.
    return withConn(spec.copy(readFrom = ReadFrom.Master), PubSubAttachment.codec) { publish(channel, message) } ?: 0L
}

private fun Picket.flowOf(
    spec: ConnSpec,
    topics: List<Topic>,
    options: ListenerOptions,
): Flow<PubSubMessage> {
    val picket = this
    return callbackFlow {
        val listener = PubSubListener.of(picket, spec, topics.associateWith { { message -> send(message) } }, options)
        awaitClose { listener.close() }
    }
}

/**
 * Pub/sub of [picket], for Java: listeners with Java handlers ([listen]), and publishing on the calling thread
 * ([blocking]) or as a future ([async]). Kotlin code uses the extensions on [Picket] ([Picket.listen],
 * [Picket.publish], the [Picket.subscribe] flows), which this delegates to.
 *
 * ```java
 * PubSub pubsub = new PubSub(picket);
 * PubSubListener listener = pubsub.listen(spec, Map.of(Topic.channel("orders"), m -> log.info(m.getPayload())));
 * listener.blocking().awaitConnected(Duration.ofSeconds(10));
 * long receivers = pubsub.blocking().publish(spec, "orders", "42");
 * pubsub.async().publish(spec, "orders.raw", serialized);   // byte[]: received as the same bytes
 * ```
 */
@OptIn(InternalPicketApi::class)
public class PubSub(
    /** The instance this publishes and listens through. */
    public val picket: Picket,
) {
    private val blocking = BlockingPubSub(this)
    private val async = AsyncPubSub(this)

    /**
     * A listener on [spec] with Java [handlers], subscribed to every topic that has one. Each handler runs on the
     * handler executor of [picket] (the one given to its builder, or kotlinx's IO threads), one message at
     * a time, in the order the server sent them; closing the listener interrupts a handler still running.
     */
    @JvmOverloads
    public fun listen(
        spec: ConnSpec,
        handlers: Map<Topic, Consumer<PubSubMessage>>,
        options: ListenerOptions = ListenerOptions(),
    ): PubSubListener {
        val executor = picket.handlers()
        return picket.listen(spec, handlers.mapValues { (_, handler) -> javaHandler(handler, executor) }, options)
    }

    /** [Picket.publish], the Kotlin form; Java calls it through [blocking] or [async]. */
    @JvmSynthetic
    public suspend fun publish(
        spec: ConnSpec,
        channel: String,
        message: String,
    ): Long = picket.publish(spec, channel, message)

    /** [Picket.publish] of bytes, the Kotlin form; Java calls it through [blocking] or [async]. */
    @JvmSynthetic
    public suspend fun publish(
        spec: ConnSpec,
        channel: String,
        message: ByteArray,
    ): Long = picket.publish(spec, channel, message)

    /** The blocking form of every member that waits for Redis, for Java: the same names ([BlockingPubSub]). */
    public fun blocking(): BlockingPubSub = blocking

    /** The `CompletableFuture` form of every member that waits for Redis, for Java ([AsyncPubSub]). */
    public fun async(): AsyncPubSub = async

    override fun toString(): String = "PubSub($picket)"
}
