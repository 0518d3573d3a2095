package picket.core.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import picket.core.InternalPicketApi
import java.util.concurrent.CopyOnWriteArrayList

private val log = KotlinLogging.logger {}

/**
 * For Picket's own modules: delivers events of type [E] to listeners of type [L] in order on one coroutine, so that
 * emitting never waits for a listener and a slow listener delays nobody who emits. The coroutine runs on the IO
 * dispatcher, one at a time: a listener that blocks its thread holds none of the threads the emitters run on. One
 * listener that throws is logged and does not stop the others.
 *
 * @param deliver calls one listener with one event.
 */
@InternalPicketApi
public class ListenerBus<E : Any, L : Any>(
    scope: CoroutineScope,
    private val deliver: (L, E) -> Unit,
) {
    private val listeners = CopyOnWriteArrayList<L>()
    private val queue = Channel<E>(Channel.UNLIMITED)
    private val drained = CompletableDeferred<Unit>()

    init {
        scope.launch(Dispatchers.IO.limitedParallelism(1)) {
            try {
                for (event in queue) {
                    log.debug { "event $event" }
                    listeners.forEach { listener ->
                        try {
                            deliver(listener, event)
                        } catch (
                            @Suppress("TooGenericExceptionCaught") e: Exception,
                        ) {
                            log.warn(e) { "listener $listener threw on $event; the other listeners still run" }
                        }
                    }
                }
            } finally {
                drained.complete(Unit)
            }
        }
    }

    /** Queues [event] for every listener; after [close], drops it. */
    public fun emit(event: E) {
        queue.trySend(event)
    }

    /** Registers [listener] for the events emitted from now on; closing the handle unregisters it. */
    public fun register(listener: L): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners -= listener }
    }

    /** Takes no more events; those queued are still delivered, unless the scope is cancelled first. */
    public fun close() {
        queue.close()
    }

    /** Returns once [close] was called and every event emitted before it was delivered (or the scope was cancelled). */
    public suspend fun awaitDrained() {
        drained.await()
    }
}
