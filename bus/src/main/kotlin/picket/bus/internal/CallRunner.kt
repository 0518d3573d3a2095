package picket.bus.internal

import com.fasterxml.jackson.databind.node.TextNode
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.withContext
import picket.bus.InvalidArgumentsException
import java.util.concurrent.atomic.AtomicLong

/**
 * Runs the calls a server's workers take: the registered function with the call's arguments (or the result cached
 * while the call was queued), and the reply to send, with the result to cache. An exception becomes an error reply
 * ("arguments" or "remote", with its stack in debug mode); in debug mode the reply goes at once and the server stops
 * ([onDebugStop]); a call cancelled while it runs is answered as lost.
 */
internal class CallRunner(
    private val bus: RealBus,
    private val debug: Boolean,
    private val sender: ReplySender,
    private val onDebugStop: (method: String, error: Throwable) -> Unit,
) {
    private val handledCount = AtomicLong()

    /** Calls handled so far (answered with a result or an error). */
    val handled: Long get() = handledCount.get()

    /** Runs [taken] (or takes its cached result): the reply to send (null: sent already, debug mode stops). */
    suspend fun handle(taken: Taken): Finished? {
        val request = taken.request
        taken.cached?.let { return Finished(request, okReply(request.id, it), null) }
        val method = taken.method
        val owned = bus.registry.owned[method]
        val outcome =
            try {
                val invoker = owned?.invoker ?: error("'$method' is not registered here")
                Result.success(Binding.encode(method, "result", invoker.invoke(method, request.args)))
            } catch (e: CancellationException) {
                val lost = errorReply(request.id, "lost", e, "the worker was stopped with the call running")
                withContext(NonCancellable) { sender.send(Finished(request, lost, null)) }
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                Result.failure(e)
            }
        handledCount.incrementAndGet()
        val error = outcome.exceptionOrNull()
        if (error == null) {
            val text = Json.write(outcome.getOrNull() ?: Json.nodes.nullNode())
            return Finished(
                request,
                okReply(request.id, text),
                bus.cache.toStore(method, owned, request.cacheKey, text),
            )
        }
        val arguments = error is InvalidArgumentsException
        val message = (error as? InvalidArgumentsException)?.reason
        val finished =
            Finished(request, errorReply(request.id, if (arguments) "arguments" else "remote", error, message), null)
        if (debug) {
            // Sent before the worker stops, so that the caller has it when join() throws.
            sender.send(finished)
            onDebugStop(method, error)
            return null
        }
        return finished
    }

    private fun okReply(
        id: String,
        resultJson: String,
    ): String = """{"id":${Json.write(TextNode(id))},"ok":true,"result":$resultJson}"""

    private fun errorReply(
        id: String,
        kind: String,
        error: Throwable,
        message: String?,
    ): String {
        val node = Json.obj().put("id", id).put("ok", false)
        val err = node.putObject("error")
        err.put("kind", kind).put("type", error::class.java.name).put("message", message ?: error.message)
        if (debug) err.put("stack", error.stackTraceToString())
        return Json.write(node)
    }
}
