package picket.bus

import com.fasterxml.jackson.databind.JsonNode
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.future.asCompletableFuture
import kotlinx.coroutines.runBlocking
import picket.bus.internal.Json
import picket.bus.internal.decode
import java.util.concurrent.CompletableFuture

/**
 * A call started by [Bus.run] (the seed's `AsyncResult`): its result can be awaited as often as wanted, from
 * coroutines, threads or futures; each await gives the same value or throws the same error.
 */
public class BusCall internal constructor(
    /** The method called. */
    public val method: String,
    private val reply: Deferred<JsonNode?>,
) {
    /** Whether the call has ended (with a result or an error). */
    public val isDone: Boolean get() = reply.isCompleted

    /** The result as plain values (numbers, strings, lists, maps, null); the call's error is thrown. */
    public suspend fun await(): Any? = decode(method, reply.await(), Any::class.java)

    /** The result decoded as [type]. */
    public suspend fun <T> await(type: Class<T>): T = decode(method, reply.await(), type)

    /** [await] for Java, on the calling thread. */
    public fun awaitBlocking(): Any? = runBlocking { await() }

    /** [await] of [type] for Java, on the calling thread. */
    public fun <T> awaitBlocking(type: Class<T>): T = runBlocking { await(type) }

    /** The result as a future of plain values. */
    public fun asFuture(): CompletableFuture<Any?> =
        reply.asCompletableFuture().thenApply { node -> decode(method, node, Any::class.java) }

    /** The raw JSON result, for callers that read it themselves. */
    public suspend fun awaitJson(): String = Json.write(reply.await() ?: Json.nodes.nullNode())

    override fun toString(): String = "BusCall($method, ${if (isDone) "done" else "running"})"
}

/** The result decoded as [T]. */
public suspend inline fun <reified T> BusCall.awaitAs(): T = await(T::class.java)
