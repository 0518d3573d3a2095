package picket.pubsub.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.future.await
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InternalPicketApi
import picket.core.engine.PubSubAttachment
import picket.pubsub.Subscriptions
import picket.pubsub.Topic
import java.time.Duration
import java.time.Instant

private val log = KotlinLogging.logger {}

/**
 * The channels and patterns a listener is to be subscribed to, and resubscribing: a [change] is sent on the
 * connection subscribed now, if any, and [subscribeAll] sends everything wanted on a new one. One [Mutex] orders
 * the two, so that a change made while a connection is being subscribed is not missed.
 */
@OptIn(InternalPicketApi::class)
// (P)SUBSCRIBE take varargs.
@Suppress("SpreadOperator")
internal class WantedTopics(
    initial: Collection<Topic>,
    private val commandTimeout: Duration,
) {
    private val channels = LinkedHashSet<String>()
    private val patterns = LinkedHashSet<String>()

    /** Serializes changes of the subscriptions with (re)subscribing on a new connection. */
    private val lock = Mutex()

    init {
        initial.forEach { topic ->
            when (topic) {
                is Topic.Channel -> channels += topic.name
                is Topic.Pattern -> patterns += topic.name
            }
        }
    }

    /** What is wanted now. */
    fun snapshot(): Subscriptions = synchronized(channels) { Subscriptions(channels.toSet(), patterns.toSet()) }

    /**
     * Adds ([add]) or removes [topics], then sends the change on the connection subscribed now ([current]), if any,
     * and awaits its confirmation for at most the command timeout. A connection that fails or gives no confirmation
     * in time is going: the next one subscribes to what is wanted then.
     */
    suspend fun change(
        topics: List<Topic>,
        add: Boolean,
        current: () -> PubSubAttachment?,
    ) {
        lock.withLock {
            synchronized(channels) {
                topics.forEach { topic ->
                    val set = if (topic is Topic.Channel) channels else patterns
                    if (add) set += topic.name else set -= topic.name
                }
            }
            val attachment = current() ?: return
            val commands = attachment.connection.async()
            val channelNames = topics.filterIsInstance<Topic.Channel>().map { it.name }.toTypedArray()
            val patternNames = topics.filterIsInstance<Topic.Pattern>().map { it.name }.toTypedArray()
            try {
                withTimeoutOrNull(commandTimeout.toMillis()) {
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

    /**
     * Subscribes [attachment] to everything wanted and awaits the confirmations, then runs [adopt] (which makes it
     * the current connection, or throws to refuse it), with no [change] in between. Returns when the subscriptions
     * were sent: everything published after that arrives.
     *
     * @throws IllegalStateException if the subscriptions were not confirmed within the command timeout.
     */
    suspend fun subscribeAll(
        attachment: PubSubAttachment,
        adopt: () -> Unit,
    ): Instant =
        lock.withLock {
            val (wantedChannels, wantedPatterns) = snapshot()
            val commands = attachment.connection.async()
            val sentAt = Instant.now()
            val done =
                withTimeoutOrNull(commandTimeout.toMillis()) {
                    if (wantedChannels.isNotEmpty()) commands.subscribe(*wantedChannels.toTypedArray()).await()
                    if (wantedPatterns.isNotEmpty()) commands.psubscribe(*wantedPatterns.toTypedArray()).await()
                    true
                }
            check(done == true) { "no subscription confirmed within ${commandTimeout.toMillis()} ms" }
            adopt()
            sentAt
        }
}
