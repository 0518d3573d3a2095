package picket.pubsub.internal

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.runInterruptible
import picket.pubsub.MessageHandler
import picket.pubsub.PubSubMessage
import picket.pubsub.Topic
import java.util.concurrent.ConcurrentHashMap
import java.util.function.Consumer

/**
 * The handlers of one listener: by name, one map per kind of topic, so that finding a message's handler creates
 * nothing; and the [fallback] for messages whose topic has none. Handlers and subscriptions are separate: a handler
 * does not subscribe, removing one keeps the subscription.
 */
internal class HandlerTable(
    initial: Map<Topic, MessageHandler>,
) {
    private val channels = ConcurrentHashMap<String, MessageHandler>()
    private val patterns = ConcurrentHashMap<String, MessageHandler>()

    /** Takes the messages whose topic has no handler; null ignores them. */
    @Volatile
    var fallback: MessageHandler? = null

    init {
        initial.forEach { (topic, handler) -> set(topic, handler) }
    }

    /** Sets or replaces the handler of [topic]. */
    fun set(
        topic: Topic,
        handler: MessageHandler,
    ) {
        of(topic)[topic.name] = handler
    }

    /** Removes the handler of [topic]; whether it had one. */
    fun remove(topic: Topic): Boolean = of(topic).remove(topic.name) != null

    /** The handler of [message]'s subscription, else the [fallback], else null (the message is ignored). */
    fun handlerOf(message: PubSubMessage): MessageHandler? {
        val pattern = message.pattern
        return (if (pattern == null) channels[message.channel] else patterns[pattern]) ?: fallback
    }

    private fun of(topic: Topic): ConcurrentHashMap<String, MessageHandler> =
        if (topic is Topic.Channel) channels else patterns
}

/**
 * A Java [handler] as a [MessageHandler]: run on [executor] (the instance's handler executor), interruptibly. The
 * listener's dispatch waits for it before the next message, so messages reach Java handlers one at a time, in order.
 */
internal fun javaHandler(
    handler: Consumer<PubSubMessage>,
    executor: CoroutineDispatcher,
): MessageHandler = { message -> runInterruptible(executor) { handler.accept(message) } }
