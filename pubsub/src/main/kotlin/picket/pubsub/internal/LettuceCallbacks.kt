package picket.pubsub.internal

import io.lettuce.core.pubsub.RedisPubSubListener
import picket.pubsub.PubSubMessage
import picket.pubsub.PubSubSignal
import picket.pubsub.Topic

/**
 * What Lettuce tells a listener's connection, on its I/O thread: messages go to the [inbox], the server's
 * (un)subscription confirmations become [PubSubSignal.Subscribed] and [PubSubSignal.Unsubscribed].
 */
internal class LettuceCallbacks(
    private val inbox: Inbox,
    private val signals: SignalBus,
) : RedisPubSubListener<String, String> {
    override fun message(
        channel: String,
        message: String,
    ) = inbox.deliver(PubSubMessage(channel, null, message))

    override fun message(
        pattern: String,
        channel: String,
        message: String,
    ) = inbox.deliver(PubSubMessage(channel, pattern, message))

    override fun subscribed(
        channel: String,
        count: Long,
    ) = signals.emit(PubSubSignal.Subscribed(Topic.Channel(channel), count))

    override fun psubscribed(
        pattern: String,
        count: Long,
    ) = signals.emit(PubSubSignal.Subscribed(Topic.Pattern(pattern), count))

    override fun unsubscribed(
        channel: String,
        count: Long,
    ) = signals.emit(PubSubSignal.Unsubscribed(Topic.Channel(channel), count))

    override fun punsubscribed(
        pattern: String,
        count: Long,
    ) = signals.emit(PubSubSignal.Unsubscribed(Topic.Pattern(pattern), count))
}
