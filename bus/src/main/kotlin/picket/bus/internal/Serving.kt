@file:Suppress("SpreadOperator") // Lettuce takes keys and script arguments as varargs; a handful per call

package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.future
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.bus.BusServer
import picket.bus.DebugStopException
import picket.bus.InvalidArgumentsException
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong

private val log = KotlinLogging.logger {}

/**
 * Workers for [methods]: [concurrency] coroutines, each taking one call at a time with `BRPOP` over the methods'
 * queues on a dedicated connection (the queues' order rotates per take: fair across methods; `LPUSH` + `BRPOP`: FIFO
 * within one), then running it.
 */
internal class Serving(
    private val core: Core,
    override val methods: List<String>,
    private val concurrency: Int,
    private val debug: Boolean,
) : BusServer {
    private val queues = methods.map { core.keys.queue(it) }
    private val byQueue = methods.associateBy { core.keys.queue(it) }
    private val stopping = AtomicBoolean(false)
    private val unserved = AtomicBoolean(false)
    private val handledCount = AtomicLong()
    private val skippedCount = AtomicLong()
    private val done = CompletableDeferred<Unit>()
    private val jobs = mutableListOf<Job>()

    @Volatile
    private var debugStop: DebugStopException? = null

    override val handled: Long get() = handledCount.get()
    override val skipped: Long get() = skippedCount.get()
    override val isRunning: Boolean get() = !done.isCompleted

    fun start() {
        repeat(concurrency) { n -> jobs += core.scope.launch { supervised(n) } }
        core.scope.launch {
            jobs.joinAll()
            unserve()
            done.complete(Unit)
        }
    }

    /** Runs [takeLoop], restarting it if it dies of anything but cancellation: a worker never vanishes silently. */
    private suspend fun supervised(n: Int) {
        while (!stopping.get()) {
            try {
                takeLoop(n)
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                log.error(e) { "bus '${core.name}' worker $n died; restarting it" }
                delay(MAX_BACKOFF_MS)
            }
        }
    }

    private suspend fun takeLoop(n: Int) {
        var turn = n
        var backoff = MIN_BACKOFF_MS
        while (!stopping.get()) {
            val order = List(queues.size) { queues[(it + turn) % queues.size] }
            turn++
            val popped =
                try {
                    core.picket
                        .withDedicatedConn(core.blockingSpec) { brpop(core.blockSeconds, *order.toTypedArray()) }
                        .also { backoff = MIN_BACKOFF_MS }
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    if (core.closedCause(e)) {
                        // Terminal (the Picket or the bus is closed): stop instead of retrying forever.
                        stopping.set(true)
                        core.terminate(e)
                        return
                    }
                    log.debug { "bus '${core.name}' worker: taking failed (${e.message}); again in $backoff ms" }
                    delay(backoff)
                    backoff = (backoff * 2).coerceAtMost(MAX_BACKOFF_MS)
                    null
                } ?: continue
            try {
                handle(byQueue.getValue(popped.key), popped.value)
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.warn(e) { "bus '${core.name}' worker: a call of '${byQueue[popped.key]}' failed to be handled" }
            }
        }
    }

    /** Takes one call within [timeout] and handles it; false if none came. */
    suspend fun once(timeout: Duration): Boolean {
        val deadline = System.nanoTime() + timeout.toNanos()
        while (System.nanoTime() < deadline) {
            val popped =
                core.picket.withDedicatedConn(core.blockingSpec) { brpop(core.blockSeconds, *queues.toTypedArray()) }
                    ?: continue
            handle(byQueue.getValue(popped.key), popped.value)
            debugStop?.let { throw it.cause ?: it }
            return true
        }
        return false
    }

    /** A request as a worker reads it (wire format: bus/README.md). */
    private class Request(
        val element: String,
        val id: String,
        val replyTo: String,
        val deadline: Long,
        val cacheKey: String?,
        val args: Map<String, JsonNode>,
    )

    private fun parse(element: String): Request? {
        val node = runCatching { Json.read(element) }.getOrNull() ?: return null
        val id = node.get("id")?.asText() ?: return null
        val replyTo = node.get("replyTo")?.asText() ?: return null
        val deadline = node.get("deadline")?.asLong() ?: return null
        val args =
            node
                .get("args")
                ?.properties()
                ?.associate { it.key to it.value }
                .orEmpty()
        return Request(element, id, replyTo, deadline, node.get("cacheKey")?.takeUnless { it.isNull }?.asText(), args)
    }

    private suspend fun handle(
        method: String,
        element: String,
    ) {
        val request =
            parse(element)
                ?: return log.warn {
                    "bus '${core.name}': dropped a malformed request on '$method': ${element.take(
                        200,
                    )}"
                }
        val retention =
            core
                .settings()
                .resultRetention
                .toMillis()
                .toString()
        val started = start(method, request, retention) ?: return
        when (started.firstOrNull()) {
            0L -> {
                skippedCount.incrementAndGet()
                log.debug {
                    "bus '${core.name}': skipped call ${request.id} of '$method': its caller's deadline passed"
                }
            }

            2L -> {
                reply(request, okReply(request.id, started[1].toString()), null)
            }

            else -> {
                execute(method, request)
            }
        }
    }

    /**
     * Records [request] as running here (START), retried with backoff until its deadline; if it never could be,
     * the request goes back to the head of its queue (null) so that another take runs or skips it.
     */
    private suspend fun start(
        method: String,
        request: Request,
        retention: String,
    ): List<Any>? {
        var backoff = MIN_BACKOFF_MS
        while (true) {
            try {
                return core.picket
                    .withConn(core.spec) {
                        run<List<Any>>(
                            Scripts.START,
                            ScriptOutputType.MULTI,
                            listOfNotNull(core.keys.proc(core.instance), request.cacheKey).toTypedArray(),
                            request.element,
                            request.deadline.toString(),
                            retention,
                        )
                    }.orEmpty()
            } catch (e: CancellationException) {
                withContext(NonCancellable) { requeue(method, request) }
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                if (core.closedCause(e) || System.currentTimeMillis() + backoff > request.deadline) {
                    log.warn { "bus '${core.name}': call ${request.id} of '$method' could not start (${e.message})" }
                    requeue(method, request)
                    return null
                }
                log.debug { "bus '${core.name}': starting call ${request.id} failed (${e.message}); again" }
                delay(backoff)
                backoff = (backoff * 2).coerceAtMost(MAX_BACKOFF_MS)
            }
        }
    }

    /** Puts [request] back where `BRPOP` takes first; best effort (if Redis refuses, the caller times out). */
    private suspend fun requeue(
        method: String,
        request: Request,
    ) {
        runCatching { core.picket.withConn(core.spec) { rpush(core.keys.queue(method), request.element) } }
            .onFailure { log.warn { "bus '${core.name}': call ${request.id} of '$method' is lost: ${it.message}" } }
    }

    private suspend fun execute(
        method: String,
        request: Request,
    ) {
        val owned = core.owned[method]
        val outcome =
            try {
                val invoker = owned?.invoker ?: error("'$method' is not registered here")
                Result.success(Binding.encode(method, "result", invoker.invoke(method, request.args)))
            } catch (e: CancellationException) {
                val lost = errorReply(request.id, "lost", e, "the worker was stopped with the call running")
                withContext(NonCancellable) { reply(request, lost, null) }
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                Result.failure(e)
            }
        val error = outcome.exceptionOrNull()
        if (error == null) {
            val text = Json.write(outcome.getOrNull() ?: Json.nodes.nullNode())
            val ttl = owned?.entry?.cacheTtlMs ?: 0L
            val cache = request.cacheKey?.let { Cached(it, core.keys.cached(method), text, ttl) }
            reply(request, okReply(request.id, text), cache)
        } else {
            val arguments = error is InvalidArgumentsException
            val message = (error as? InvalidArgumentsException)?.reason
            reply(request, errorReply(request.id, if (arguments) "arguments" else "remote", error, message), null)
            if (debug) stopForDebug(method, error)
        }
        handledCount.incrementAndGet()
    }

    /** A result to cache: the entry's key, the method's set of cached keys, the JSON, the TTL (0: none). */
    private class Cached(
        val key: String,
        val set: String,
        val json: String,
        val ttlMs: Long,
    )

    private fun stopForDebug(
        method: String,
        error: Throwable,
    ) {
        val stop = DebugStopException(method, error)
        log.error(error) {
            "DEBUG MODE: bus '${core.name}' worker stopped at the first exception, in '$method' " +
                "(never run debug mode in production)"
        }
        if (debugStop == null) debugStop = stop
        stopping.set(true)
    }

    private fun okReply(
        id: String,
        resultJson: String,
    ): String = """{"id":${Core.text(id)},"ok":true,"result":$resultJson}"""

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

    /** Ends a call (out of proc, reply pushed, result cached), retried a few times: a duplicate reply is harmless. */
    private suspend fun reply(
        request: Request,
        reply: String,
        cache: Cached?,
    ) {
        val retention =
            core
                .settings()
                .resultRetention
                .toMillis()
                .toString()
        val proc = core.keys.proc(core.instance)
        val keys = listOfNotNull(proc, request.replyTo, cache?.key, cache?.set).toTypedArray()
        val args =
            if (cache == null) {
                arrayOf(request.element, reply, retention)
            } else {
                arrayOf(request.element, reply, retention, cache.json, cache.ttlMs.toString())
            }
        // Retried until the caller's deadline (plus slack for clock skew): past it the caller has given up.
        val giveUpAt = maxOf(request.deadline, System.currentTimeMillis()) + REPLY_SLACK_MS
        var backoff = MIN_BACKOFF_MS
        var attempt = 0
        while (true) {
            attempt++
            try {
                core.picket.withConn(core.spec) { run<Long>(Scripts.REPLY, ScriptOutputType.INTEGER, keys, *args) }
                return
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                if (core.closedCause(e) || System.currentTimeMillis() + backoff > giveUpAt) break
                log.debug { "bus '${core.name}': reply failed (${e.message}), attempt $attempt" }
                delay(backoff)
                backoff = (backoff * 2).coerceAtMost(MAX_BACKOFF_MS)
            }
        }
        log.warn { "bus '${core.name}': a reply could not be sent after $attempt attempts; its caller times out" }
    }

    override suspend fun stop(drainTimeout: Duration): Boolean {
        stopping.set(true)
        val drained = withTimeoutOrNull(drainTimeout.toMillis().coerceAtLeast(1)) { jobs.joinAll() } != null
        if (!drained) jobs.forEach { it.cancel() }
        jobs.joinAll()
        unserve()
        done.complete(Unit)
        return drained
    }

    /** Takes this server's methods out of the heartbeat; other servers of the instance keep theirs. */
    private suspend fun unserve() {
        if (!unserved.compareAndSet(false, true)) return
        core.servers.remove(this)
        val gone =
            methods.filter { method ->
                core.served.computeIfPresent(method) { _, n -> if (n <= 1) null else n - 1 } == null
            }
        if (gone.isEmpty()) return
        runCatching {
            withContext(NonCancellable) {
                core.picket.withConn(core.spec) { gone.forEach { zrem(core.keys.workers(it), core.instance) } }
            }
        }
    }

    override fun stopBlocking(drainTimeout: Duration): Boolean = runBlocking { stop(drainTimeout) }

    override suspend fun join() {
        done.await()
        debugStop?.let { throw it }
    }

    override fun joinAsync(): CompletableFuture<Void?> =
        core.scope.future {
            join()
            null
        }

    override fun close() {
        stopBlocking(Duration.ofSeconds(DEFAULT_DRAIN_S))
    }

    private companion object {
        const val MIN_BACKOFF_MS = 50L
        const val MAX_BACKOFF_MS = 1_000L
        const val REPLY_SLACK_MS = 2_000L
        const val DEFAULT_DRAIN_S = 10L
    }
}
