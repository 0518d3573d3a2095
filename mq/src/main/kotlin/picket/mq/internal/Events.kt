package picket.mq.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import picket.mq.QueueEvent
import picket.mq.QueueListener
import java.util.concurrent.CopyOnWriteArrayList

private val log = KotlinLogging.logger {}

/** The listeners of one [picket.mq.MessageQueues]; events go to each in turn on the emitting coroutine. */
internal class Events {
    private val listeners = CopyOnWriteArrayList<QueueListener>()

    fun register(listener: QueueListener): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners -= listener }
    }

    fun emit(event: QueueEvent) {
        listeners.forEach { listener ->
            try {
                listener.onEvent(event)
            } catch (
                // A listener that throws must not stop the others nor the worker.
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.warn(e) { "a queue listener threw on $event" }
            }
        }
    }
}
