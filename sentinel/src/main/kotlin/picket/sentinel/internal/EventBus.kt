package picket.sentinel.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import picket.core.PicketEvent
import picket.sentinel.PicketListener
import java.util.concurrent.CopyOnWriteArrayList

private val log = KotlinLogging.logger {}

/**
 * Delivers events to listeners in order on one coroutine, so that emitting never waits for a listener and a slow
 * listener delays neither resolution nor switch handling. The coroutine runs on the IO dispatcher, one at a time:
 * a listener that blocks its thread holds none of the threads that resolution and switch handling run on.
 */
internal class EventBus(
    scope: CoroutineScope,
) {
    private val listeners = CopyOnWriteArrayList<PicketListener>()
    private val queue = Channel<PicketEvent>(Channel.UNLIMITED)

    init {
        scope.launch(Dispatchers.IO.limitedParallelism(1)) {
            for (event in queue) {
                log.debug { "event $event" }
                listeners.forEach { listener ->
                    try {
                        listener.onEvent(event)
                    } catch (
                        @Suppress("TooGenericExceptionCaught") e: Exception,
                    ) {
                        log.warn(e) { "listener $listener threw on $event; the other listeners still run" }
                    }
                }
            }
        }
    }

    fun emit(event: PicketEvent) {
        queue.trySend(event)
    }

    fun register(listener: PicketListener): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners -= listener }
    }

    fun close() {
        queue.close()
    }
}
