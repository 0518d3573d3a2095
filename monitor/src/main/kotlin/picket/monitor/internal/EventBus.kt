package picket.monitor.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import picket.monitor.MonitorEvent
import picket.monitor.MonitorListener
import java.util.concurrent.CopyOnWriteArrayList

private val log = KotlinLogging.logger {}

/** Delivers monitor events in order, on one coroutine: emitting never waits for a listener. */
internal class EventBus(
    scope: CoroutineScope,
) {
    private val listeners = CopyOnWriteArrayList<MonitorListener>()
    private val queue = Channel<MonitorEvent>(Channel.UNLIMITED)

    init {
        scope.launch {
            for (event in queue) {
                listeners.forEach { listener ->
                    try {
                        listener.onEvent(event)
                    } catch (
                        @Suppress("TooGenericExceptionCaught") e: Exception,
                    ) {
                        log.warn(e) { "a monitor listener threw on $event" }
                    }
                }
            }
        }
    }

    fun emit(event: MonitorEvent) {
        queue.trySend(event)
    }

    fun register(listener: MonitorListener): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners.remove(listener) }
    }

    fun close() {
        queue.close()
    }
}
