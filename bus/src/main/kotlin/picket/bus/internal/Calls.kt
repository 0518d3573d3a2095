package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.bus.CallTimeoutException
import picket.bus.InvalidArgumentsException
import picket.bus.NoWorkerException
import picket.bus.RemoteException
import picket.bus.UnknownMethodException
import picket.bus.WorkerLostException
import picket.core.internal.runScript
import java.time.Duration
import java.util.UUID
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Calling: one call, start to end. Binds the arguments, runs the call script (the cached result, or the request
 * queued with its deadline), waits for the reply that [Replies] hands over by the call's id, and turns it into the
 * result or the call's typed error. A caller that gives up takes its request back, so it never runs.
 */
internal class Calls(
    private val bus: RealBus,
) {
    private val repliesIndexed = AtomicBoolean(false)

    /** One call, start to end: the result's JSON, or the call's typed error. */
    suspend fun call(
        method: String,
        positional: List<Any?>,
        named: Map<String, Any?>,
        timeout: Duration?,
    ): JsonNode? {
        bus.checkOpen()
        val settings = bus.settings()
        val limit = timeout ?: settings.defaultTimeout
        if (limit.isNegative || limit.isZero) {
            throw InvalidArgumentsException(method, "the timeout is $limit, must be > 0")
        }
        val started = System.nanoTime()
        val entry = bus.registry.entry(method)
        val bound = Binding.bind(entry, positional, named)
        val cacheKey = bus.cache.keyOf(entry, bound)
        val id = UUID.randomUUID().toString()
        val request =
            Json
                .obj()
                .put("id", id)
                .put("method", method)
                .put("replyTo", bus.keys.replies(bus.instance))
                .also { node -> cacheKey?.let { node.put("cacheKey", it) } }
        request.putObject("args").setAll<JsonNode>(bound)
        val tail = Json.write(request).substring(1)
        indexReplies()
        bus.replies.start()
        bus.heartbeat.start()
        val waiting = CompletableDeferred<JsonNode>()
        bus.replies.pending[id] = waiting
        try {
            val queued = queue(method, cacheKey, tail, limit, settings.resultRetention)
            when (queued.firstOrNull()) {
                -1L -> {
                    bus.registry.reload()
                    throw UnknownMethodException(bus.name, method, bus.registry.known)
                }

                1L -> {
                    return Json.read(queued[1].toString())
                }
            }
            val left = limit.toMillis() - (System.nanoTime() - started) / NANOS_PER_MS
            return result(
                method,
                awaitReply(method, limit, left, waiting, requestElement(queued, tail)),
            )
        } finally {
            bus.replies.pending.remove(id)
        }
    }

    /**
     * Runs the call script: the cached result, or the request queued with its deadline. The round trip is not
     * cancellable: a caller cancelled once the script was sent but before its reply was read would not know the
     * queued request (its deadline comes from the master's clock) and could not take it back; so it waits for the
     * reply (one round trip, bounded by the command timeout), takes the request back, and then ends cancelled.
     */
    private suspend fun queue(
        method: String,
        cacheKey: String?,
        tail: String,
        limit: Duration,
        retention: Duration,
    ): List<Any> {
        var sent: List<Any>? = null
        try {
            withContext(NonCancellable) {
                sent =
                    bus.picket
                        .withConn(bus.spec) {
                            runScript<List<Any>>(
                                Scripts.CALL,
                                ScriptOutputType.MULTI,
                                listOfNotNull(bus.keys.methods, bus.keys.queue(method), cacheKey).toTypedArray(),
                                method,
                                tail,
                                limit.toMillis().toString(),
                                retention.toMillis().toString(),
                            )
                        }.orEmpty()
            }
        } catch (e: CancellationException) {
            // Cancelled while the script ran: its reply was read all the same (the result is dropped on the way
            // back to a cancelled caller), so a request it queued is known and goes.
            sent?.takeIf { it.firstOrNull() == 0L }?.let { takeBack(method, requestElement(it, tail)) }
            throw e
        }
        return sent!!
    }

    /** The queue element of a request the call script queued (its reply [queued]: {0, deadline}). */
    private fun requestElement(
        queued: List<Any>,
        tail: String,
    ): String = "{\"deadline\":${queued.getOrNull(1)},$tail"

    /** Removes a request its caller gave up on from [method]'s queue, if no worker took it yet; never cancelled. */
    private suspend fun takeBack(
        method: String,
        element: String,
    ) {
        withContext(NonCancellable) {
            runCatching { bus.picket.withConn(bus.spec) { lrem(bus.keys.queue(method), 1, element) } }
        }
    }

    /** The reply to a queued call within [left] ms; a caller that gives up takes its request back (never run). */
    private suspend fun awaitReply(
        method: String,
        limit: Duration,
        left: Long,
        waiting: CompletableDeferred<JsonNode>,
        element: String,
    ): JsonNode =
        try {
            withTimeoutOrNull(left.coerceAtLeast(1)) { waiting.await() } ?: throw timedOut(method, limit)
        } catch (e: CancellationException) {
            takeBack(method, element)
            throw e
        }

    /** Names this instance's reply list in the index once (a caller that never registers has it too), for cleanup. */
    private suspend fun indexReplies() {
        if (repliesIndexed.get()) return
        bus.picket.withConn(bus.spec) { sadd(bus.keys.index, bus.keys.replies(bus.instance)) }
        repliesIndexed.set(true)
    }

    private suspend fun timedOut(
        method: String,
        limit: Duration,
    ): Exception {
        val live =
            runCatching {
                bus.picket.withConn(bus.spec) {
                    runScript<Long>(Scripts.LIVE, ScriptOutputType.INTEGER, arrayOf(bus.keys.workers(method)))
                }
            }.getOrNull()
        return if (live == 0L) NoWorkerException(method, limit) else CallTimeoutException(method, limit)
    }

    /** The result in [reply], or the error it carries (wire format: bus/README.md). */
    private fun result(
        method: String,
        reply: JsonNode,
    ): JsonNode? {
        if (reply.path("ok").asBoolean(false)) return reply.get("result")
        val error = reply.path("error")
        val message = error.path("message").takeUnless { it.isMissingNode || it.isNull }?.asText()
        throw when (error.path("kind").asText()) {
            "lost" -> {
                WorkerLostException(method, message ?: "no reason given")
            }

            "arguments" -> {
                InvalidArgumentsException(method, message ?: "refused by the worker")
            }

            else -> {
                RemoteException(
                    method,
                    error.path("type").asText("unknown"),
                    message,
                    error.path("stack").takeUnless { it.isMissingNode || it.isNull }?.asText(),
                )
            }
        }
    }

    private companion object {
        const val NANOS_PER_MS = 1_000_000L
    }
}
