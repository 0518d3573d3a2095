package picket.pubsub.internal

import kotlinx.coroutines.CoroutineScope
import picket.core.InternalPicketApi
import picket.core.internal.ListenerBus
import picket.pubsub.PubSubSignal
import picket.pubsub.SignalListener

/**
 * Delivers one listener's [PubSubSignal]s to its [SignalListener] ([picket.pubsub.ListenerOptions.onSignal]) through
 * Picket's one listener mechanism, [ListenerBus]: in order, on a coroutine of the listener's [scope], so that the
 * connection's I/O thread never waits for it; a listener that throws is logged. Without a listener, nothing is queued.
 */
@OptIn(InternalPicketApi::class)
internal class SignalBus(
    scope: CoroutineScope,
    listener: SignalListener?,
) {
    private val bus: ListenerBus<PubSubSignal, SignalListener>? =
        listener?.let {
            ListenerBus<PubSubSignal, SignalListener>(scope) { each, signal -> each.onSignal(signal) }
                .also { bus -> bus.register(listener) }
        }

    /** Queues [signal] for the listener; after [close], drops it. */
    fun emit(signal: PubSubSignal) {
        bus?.emit(signal)
    }

    /** Takes no more signals. */
    fun close() {
        bus?.close()
    }
}
