package picket.pubsub.internal

import kotlinx.coroutines.channels.ReceiveChannel
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InternalPicketApi
import picket.core.engine.PubSubAttachment
import picket.pubsub.ListenerOptions
import java.time.Instant

/**
 * Liveness of a subscribed connection: a paused or partitioned node never closes the socket, so the connection is
 * PINGed every [ListenerOptions.pingInterval] and given up when a PING gets no reply within
 * [ListenerOptions.pingTimeout]. A connection that delivered messages meanwhile, or is waiting to (a full buffer
 * holding its I/O thread), is alive: the reply may wait behind them. Each PING answered moves the [gap]'s start.
 */
@OptIn(InternalPicketApi::class)
internal class Liveness(
    private val options: ListenerOptions,
    private val inbox: Inbox,
    private val gap: GapClock,
) {
    /**
     * Watches [attachment] until it must be replaced, and returns why: a reason received on [wake] (a switch, its
     * close), the listener closing, or a PING failed or left unanswered.
     */
    suspend fun watch(
        attachment: PubSubAttachment,
        wake: ReceiveChannel<String>,
    ): String {
        val commands = attachment.connection.async()
        while (true) {
            withTimeoutOrNull(options.pingInterval.toMillis()) { wake.receiveCatching() }?.let {
                return it.getOrNull() ?: "the listener closed"
            }
            val sentAt = Instant.now()
            val receivedBefore = inbox.received
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
            if (!answered && (inbox.received != receivedBefore || inbox.isBlocked)) continue
            if (!answered) return "no PING reply within ${options.pingTimeout.toMillis()} ms"
            gap.verified(sentAt)
        }
    }
}
