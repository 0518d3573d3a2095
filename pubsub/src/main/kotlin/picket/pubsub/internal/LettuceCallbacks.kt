package picket.pubsub.internal

import io.lettuce.core.pubsub.RedisPubSubListener
import picket.core.InternalPicketApi
import picket.core.internal.ListenerBus
import picket.pubsub.PubSubEvent
import picket.pubsub.PubSubMessage
import picket.pubsub.Topic

/**
 * What Lettuce tells a listener's connection, on its I/O thread: messages go to the [inbox] (their payload the array
 * Lettuce's codec made for them, kept without a copy), the server's (un)subscription confirmations become
 * [PubSubEvent.Subscribed] and [PubSubEvent.Unsubscribed].
 */
@OptIn(InternalPicketApi::class)
internal class LettuceCallbacks(
    private val inbox: Inbox,
    private val events: ListenerBus<PubSubEvent, *>,
) : RedisPubSubListener<String, ByteArray> {
    override fun message(
        channel: String,
        message: ByteArray,
    ) = inbox.deliver(PubSubMessage(channel, null, message))

    override fun message(
        pattern: String,
        channel: String,
        message: ByteArray,
    ) = inbox.deliver(PubSubMessage(channel, pattern, message))

    override fun subscribed(
        channel: String,
        count: Long,
    ) = events.emit(PubSubEvent.Subscribed(Topic.Channel(channel), count))

    override fun psubscribed(
        pattern: String,
        count: Long,
    ) = events.emit(PubSubEvent.Subscribed(Topic.Pattern(pattern), count))

    override fun unsubscribed(
        channel: String,
        count: Long,
    ) = events.emit(PubSubEvent.Unsubscribed(Topic.Channel(channel), count))

    override fun punsubscribed(
        pattern: String,
        count: Long,
    ) = events.emit(PubSubEvent.Unsubscribed(Topic.Pattern(pattern), count))
}
