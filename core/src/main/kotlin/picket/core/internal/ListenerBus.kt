package picket.core.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.launch
import picket.core.InternalPicketApi
import java.util.concurrent.CopyOnWriteArrayList

private val log = KotlinLogging.logger {}

/**
 * For Picket's own modules: Picket's one listener mechanism. It delivers events of type [E] to listeners of type [L],
 * registered with [register] (a handle that unregisters) or collected with [asFlow]; one listener that throws is
 * logged and does not stop the others. An event emitted while no listener is registered is dropped at once.
 *
 * Two ways to deliver, chosen when it is made:
 * - queued (the constructor): in order on one coroutine of the given scope, so that emitting never waits for a
 *   listener and a slow listener delays nobody who emits. The coroutine runs on the dispatcher given (the
 *   instance's handlers), one at a time: a listener that blocks its thread holds none of the threads the emitters
 *   run on.
 * - on the emitter ([onEmitter]): each listener in turn on the coroutine that emits, before [emit] returns; for an
 *   owner that has no scope of its own (a queue, a list listener) and whose events follow the emitter's work.
 *
 * @param deliver calls one listener with one event.
 */
@InternalPicketApi
public class ListenerBus<E : Any, L : Any> private constructor(
    private val deliver: (L, E) -> Unit,
    private val queue: Channel<E>?,
) {
    /** One registration: a listener, or a [asFlow] collector. */
    private class Sink<E>(
        private val name: Any,
        val take: (E) -> Unit,
    ) {
        override fun toString(): String = name.toString()
    }

    private val sinks = CopyOnWriteArrayList<Sink<E>>()
    private val drained = CompletableDeferred<Unit>()

    /**
     * A bus that delivers in order on one coroutine of [scope] (see the class), run on [on]: the instance's handler
     * dispatcher (`picket.handlers()`), so that listeners run on the executor the user gave, or threads of the
     * instance.
     */
    public constructor(
        scope: CoroutineScope,
        on: CoroutineDispatcher,
        deliver: (L, E) -> Unit,
    ) : this(deliver, Channel(Channel.UNLIMITED)) {
        val events = checkNotNull(queue)
        scope.launch(on.limitedParallelism(1)) {
            try {
                for (event in events) deliverToAll(event)
            } finally {
                drained.complete(Unit)
            }
        }
    }

    /** Queues [event] for every listener (or, [onEmitter], delivers it now); after [close], drops it. */
    public fun emit(event: E) {
        if (sinks.isEmpty()) return
        if (queue == null) {
            if (!drained.isCompleted) deliverToAll(event)
        } else {
            queue.trySend(event)
        }
    }

    /** Registers [listener] for the events emitted from now on; closing the handle unregisters it. */
    public fun register(listener: L): AutoCloseable = add(Sink(listener) { deliver(listener, it) })

    /**
     * The events emitted from the moment of collection on, as a cold flow: collecting registers a listener, and
     * events wait in an unbounded buffer for a slow collector (none is dropped). It completes once the bus is closed
     * and the events emitted before are delivered; collected after that, it is empty.
     */
    public fun asFlow(): Flow<E> =
        callbackFlow {
            val handle = add(Sink("a flow collector") { trySend(it) })
            launch {
                drained.await()
                channel.close()
            }
            awaitClose { handle.close() }
        }.buffer(Channel.UNLIMITED)

    /** Takes no more events; those queued are still delivered, unless the scope is cancelled first. */
    public fun close() {
        if (queue == null) drained.complete(Unit) else queue.close()
    }

    /** Returns once [close] was called and every event emitted before it was delivered (or the scope was cancelled). */
    public suspend fun awaitDrained() {
        drained.await()
    }

    private fun add(sink: Sink<E>): AutoCloseable {
        sinks += sink
        return AutoCloseable { sinks -= sink }
    }

    private fun deliverToAll(event: E) {
        log.debug { "event $event" }
        sinks.forEach { sink ->
            try {
                sink.take(event)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.warn(e) { "listener $sink threw on $event; the other listeners still run" }
            }
        }
    }

    public companion object {
        /**
         * A bus that delivers each event to every listener in turn on the coroutine that emits it, before [emit]
         * returns: no coroutine of its own, nothing to close. Listeners must be fast: they hold up the emitter.
         */
        public fun <E : Any, L : Any> onEmitter(deliver: (L, E) -> Unit): ListenerBus<E, L> = ListenerBus(deliver, null)
    }
}
