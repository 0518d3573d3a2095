package picket.pubsub

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.future.future
import kotlinx.coroutines.runBlocking
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.ReadFrom
import picket.pubsub.internal.blockingHandler
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer

/**
 * A listener on [spec] with [handlers] keyed by channel or pattern, each subscribed at once. See [PubSubListener].
 *
 * ```kotlin
 * val listener = picket.listen(spec, mapOf(Topic.channel("orders") to { m -> println(m.payload) }))
 * ```
 *
 * On a closed Picket the listener never connects.
 */
@JvmOverloads
public fun Picket.listen(
    spec: ConnSpec,
    handlers: Map<Topic, MessageHandler>,
    options: ListenerOptions = ListenerOptions(),
): PubSubListener = PubSubListener(this, spec, handlers, options)

/**
 * The messages of [channels] as a cold flow: each collection subscribes on a listener of its own, which follows
 * failovers like any [PubSubListener], and unsubscribes and closes it when the collector stops. A slow collector
 * fills the listener's buffer ([ListenerOptions.overflow] says what then).
 *
 * @throws picket.core.InvalidSpecException if a channel name is empty.
 */
@JvmOverloads
public fun Picket.subscribe(
    spec: ConnSpec,
    channels: List<String>,
    options: ListenerOptions = ListenerOptions(),
): Flow<PubSubMessage> = flowOf(spec, channels.map { Topic.Channel(it) }, options)

/** The messages of the patterns [globs] as a cold flow, as [subscribe] does for channels. */
@JvmOverloads
public fun Picket.psubscribe(
    spec: ConnSpec,
    globs: List<String>,
    options: ListenerOptions = ListenerOptions(),
): Flow<PubSubMessage> = flowOf(spec, globs.map { Topic.Pattern(it) }, options)

/**
 * Publishes [message] on [channel] through the master of [spec] (a replica-reading spec publishes on the master
 * too: a message published on a replica reaches only that replica's subscribers) and returns how many subscribers
 * of that node received it.
 *
 * @throws picket.core.InvalidSpecException if [channel] is empty.
 */
public suspend fun Picket.publish(
    spec: ConnSpec,
    channel: String,
    message: String,
): Long {
    Topic.Channel(channel)
    return withConn(spec.copy(readFrom = ReadFrom.Master)) { publish(channel, message) } ?: 0L
}

private fun Picket.flowOf(
    spec: ConnSpec,
    topics: List<Topic>,
    options: ListenerOptions,
): Flow<PubSubMessage> {
    val picket = this
    return callbackFlow {
        val listener = PubSubListener(picket, spec, topics.associateWith { { message -> send(message) } }, options)
        awaitClose { listener.close() }
    }
}

/** Pub/sub for Java: listeners with plain handlers, and publishing, blocking or as futures. */
public object PubSub {
    /**
     * A listener on [spec] with Java [handlers] (each run on an I/O thread, one message at a time), subscribed to
     * every topic that has one.
     */
    @JvmStatic
    @JvmOverloads
    public fun listen(
        picket: Picket,
        spec: ConnSpec,
        handlers: Map<Topic, Consumer<PubSubMessage>>,
        options: ListenerOptions = ListenerOptions(),
    ): PubSubListener = picket.listen(spec, handlers.mapValues { (_, handler) -> blockingHandler(handler) }, options)

    /** [publish] for Java, on the calling thread. */
    @JvmStatic
    public fun publishBlocking(
        picket: Picket,
        spec: ConnSpec,
        channel: String,
        message: String,
    ): Long = runBlocking { picket.publish(spec, channel, message) }

    /** [publish] for Java, as a future. */
    @JvmStatic
    public fun publishAsync(
        picket: Picket,
        spec: ConnSpec,
        channel: String,
        message: String,
    ): CompletableFuture<Long> {
        Topic.Channel(channel)
        return CoroutineScope(Dispatchers.Default).future { picket.publish(spec, channel, message) }
    }
}
