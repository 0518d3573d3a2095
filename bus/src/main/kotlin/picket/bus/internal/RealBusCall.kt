package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import kotlinx.coroutines.Deferred
import picket.bus.BusCall
import picket.core.Picket

/** A [BusCall] over the [reply] of the call that [picket.bus.Bus.run] started on the bus's scope. */
internal class RealBusCall(
    picket: Picket,
    override val method: String,
    private val reply: Deferred<JsonNode?>,
) : BusCall {
    private val blockingView = BusCall.Blocking(this, picket)
    private val asyncView = BusCall.Async(this, picket)

    override val isDone: Boolean get() = reply.isCompleted

    override suspend fun await(): Any? = decode(method, reply.await(), Any::class.java)

    override suspend fun <T> await(type: Class<T>): T = decode(method, reply.await(), type)

    override suspend fun awaitJson(): String = Json.write(reply.await() ?: Json.nodes.nullNode())

    override fun blocking(): BusCall.Blocking = blockingView

    override fun async(): BusCall.Async = asyncView

    override fun toString(): String = "BusCall($method, ${if (isDone) "done" else "running"})"
}
