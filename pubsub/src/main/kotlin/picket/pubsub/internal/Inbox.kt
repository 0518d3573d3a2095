package picket.pubsub.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.isActive
import picket.core.InternalPicketApi
import picket.core.internal.ListenerBus
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubEvent
import picket.pubsub.PubSubMessage
import java.util.concurrent.atomic.AtomicLong

/**
 * The way of a message from the connection to its handler. [deliver] takes it on the connection's I/O thread: first
 * to the [ListenerOptions.inlineHandler], then into a buffer of [ListenerOptions.bufferSize] under the
 * [ListenerOptions.overflow] policy. [dispatch] hands the buffered messages, one at a time and in the order the
 * server sent them, to their handlers ([HandlerTable]) on the listener's coroutine; a handler that throws is reported
 * ([PubSubEvent.HandlerFailed]) and the next message goes on.
 */
@OptIn(InternalPicketApi::class)
internal class Inbox(
    private val options: ListenerOptions,
    private val handlers: HandlerTable,
    private val events: ListenerBus<PubSubEvent, *>,
) {
    private val buffer = Channel<PubSubMessage>(options.bufferSize)
    private val droppedCount = AtomicLong()

    /** Messages received from the server, for liveness: a connection that delivers is alive. */
    @Volatile
    var received = 0L
        private set

    /** When delivery started waiting for room in a full buffer (SUSPEND), as nanoTime; 0 when it is not waiting. */
    @Volatile
    private var blockedSince = 0L

    /** Whether delivery is waiting for room in a full buffer now, holding the I/O thread. */
    val isBlocked: Boolean get() = blockedSince != 0L

    /** How many messages were dropped because the buffer was full ([ListenerOptions.Overflow.DROP_OLDEST]). */
    val dropped: Long get() = droppedCount.get()

    /** Called by Lettuce on its I/O thread: buffers the message, or applies the overflow policy. */
    fun deliver(message: PubSubMessage) {
        // One writer (the connection's I/O thread): a plain volatile increment is enough.
        received++
        if (takenInline(message)) return
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

    /** Hands the buffered messages to their handlers, one at a time, until the buffer is cancelled. */
    suspend fun dispatch() {
        for (message in buffer) {
            val handler = handlers.handlerOf(message) ?: continue
            try {
                handler(message)
            } catch (e: CancellationException) {
                if (!currentCoroutineContext().isActive) throw e
                events.emit(PubSubEvent.HandlerFailed(message, e))
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                events.emit(PubSubEvent.HandlerFailed(message, e))
            }
        }
    }

    /** Takes no more messages and drops those buffered; also releases an I/O thread held by a full buffer. */
    fun close() {
        // Cancel, not close: it also releases an I/O thread held by a full buffer (Overflow.SUSPEND).
        buffer.cancel()
    }

    /** Whether the inline handler took [message]; one that throws is reported and the message buffered. */
    private fun takenInline(message: PubSubMessage): Boolean {
        val inline = options.inlineHandler ?: return false
        return try {
            inline.handle(message)
        } catch (
            // Nothing may escape onto Lettuce's I/O thread.
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            events.emit(PubSubEvent.HandlerFailed(message, e))
            false
        }
    }

    /** Drops the oldest buffered messages, counted and reported, until [message] fits. */
    private fun dropOldestFor(message: PubSubMessage) {
        while (true) {
            val sent = buffer.trySend(message)
            if (sent.isSuccess || sent.isClosed) return
            buffer.tryReceive().getOrNull()?.let { oldest ->
                events.emit(PubSubEvent.Dropped(oldest, droppedCount.incrementAndGet()))
            }
        }
    }
}
