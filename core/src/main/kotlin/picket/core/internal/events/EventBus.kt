package picket.core.internal.events

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.Flow
import picket.core.InternalPicketApi
import picket.core.PicketEvent
import picket.core.PicketListener
import picket.core.internal.ListenerBus

/**
 * Delivers events to listeners in order on one coroutine, so that emitting never waits for a listener and a slow
 * listener delays neither resolution nor switch handling. The coroutine runs on the instance's handlers, one at a
 * time: a listener that blocks its thread holds none of the threads that resolution and switch handling run on. The
 * delivery is [ListenerBus]'s, which the monitor shares.
 */
@InternalPicketApi
public class EventBus(
    scope: CoroutineScope,
    handlers: CoroutineDispatcher,
) {
    private val bus =
        ListenerBus<PicketEvent, PicketListener>(scope, handlers) { listener, event -> listener.onEvent(event) }

    public fun emit(event: PicketEvent): Unit = bus.emit(event)

    public fun register(listener: PicketListener): AutoCloseable = bus.register(listener)

    /** The events from the moment of collection on; the flow completes once the bus is closed and drained. */
    public fun asFlow(): Flow<PicketEvent> = bus.asFlow()

    public fun close(): Unit = bus.close()
}
