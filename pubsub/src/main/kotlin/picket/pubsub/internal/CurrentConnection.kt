package picket.pubsub.internal

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InternalPicketApi
import picket.core.engine.PubSubAttachment
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

/**
 * A listener's connection: the one [opened] now, subscribed or not yet, which whoever takes it out of here closes
 * (the [Follower] when it replaces it, [close] when the listener closes: closed once, Lettuce warns at a second
 * close); and the one subscribed on, [current], null while the listener is (re)connecting.
 */
@OptIn(InternalPicketApi::class)
internal class CurrentConnection {
    private val connected = MutableStateFlow(false)
    private val opened = AtomicReference<PubSubAttachment?>()

    /** The connection subscribed to everything wanted, or null while (re)connecting. */
    @Volatile
    var current: PubSubAttachment? = null
        set(value) {
            field = value
            connected.value = value != null
        }

    /** Waits until [current] is set, for at most [timeout]; whether it is. */
    suspend fun awaitConnected(timeout: Duration): Boolean =
        withTimeoutOrNull(timeout.toMillis()) { connected.first { it } } ?: false

    /** [attachment] was just opened: it is closed by [release] or [close], whichever comes first. */
    fun opened(attachment: PubSubAttachment) {
        opened.set(attachment)
    }

    /** Closes [attachment], replaced, unless [close] took it first. */
    fun release(attachment: PubSubAttachment) {
        if (opened.compareAndSet(attachment, null)) attachment.connection.closeAsync()
    }

    /** Closes the open connection, if any, waiting at most [timeout] for it to close. */
    fun close(timeout: Duration) {
        opened.getAndSet(null)?.connection?.closeAsync()?.let {
            runCatching { it.get(timeout.toMillis(), TimeUnit.MILLISECONDS) }
        }
        current = null
    }
}
