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
import picket.core.internal.Backoff
import picket.core.internal.runScript
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

    /**
     * One worker: on a dedicated connection held for as long as it works, a [Scripts.STEP] ends the call it
     * finished and takes the next one in one round trip; only when nothing is queued does it block (`BRPOP`, then
     * [Scripts.START]). A reply that could not be sent is sent again with the next step, until its caller's deadline
     * (plus [REPLY_SLACK_MS]).
     */
    private suspend fun takeLoop(n: Int) {
        val outbox = Outbox()
        try {
            serveLoop(n, outbox)
        } finally {
            // Stopped or cancelled with a reply not yet sent: send it (a duplicate, if its step did run, is harmless).
            outbox.finished?.let { withContext(NonCancellable) { reply(it) } }
        }
    }

    /** The reply a worker has yet to send (with its next step). */
    private class Outbox {
        var finished: Finished? = null
    }

    private suspend fun serveLoop(
        n: Int,
        outbox: Outbox,
    ) {
        var turn = n
        val backoff = Backoff(MIN_BACKOFF_MS, MAX_BACKOFF_MS)
        while (!stopping.get()) {
            try {
                core.picket.withDedicatedConn(core.blockingSpec) {
                    // After a BRPOP that timed out, nothing to send and nothing queued: block again without a step.
                    var idle = false
                    while (!stopping.get()) {
                        val order = List(queues.size) { queues[(it + turn) % queues.size] }
                        turn++
                        val taken = if (idle && outbox.finished == null) null else step(order, outbox.finished)
                        outbox.finished = null
                        backoff.reset()
                        val popped = if (taken == null) brpop(core.blockSeconds, *order.toTypedArray()) else null
                        idle = taken == null && popped == null
                        val call = taken ?: popped?.let { start(byQueue.getValue(it.key), it.value) } ?: continue
                        outbox.finished = handle(call)
                    }
                }
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
                log.debug {
                    "bus '${core.name}' worker: taking failed (${e.message}); again in ${backoff.upcomingMs} ms"
                }
                outbox.finished = outbox.finished?.retried()
                backoff.pause()
            }
        }
    }

    /** Ends [finished] (if any) and takes the next call without blocking: a [Scripts.STEP]. */
    private suspend fun picket.core.Commands<String, String>.step(
        order: List<String>,
        finished: Finished?,
    ): Taken? {
        val retention =
            core
                .settings()
                .resultRetention
                .toMillis()
                .toString()
        val args = ArrayList<String>(STEP_FIXED_ARGS + STEP_REPLY_ARGS)
        args += retention
        args += MOST_DROPPED.toString()
        if (finished == null) {
            args += "0"
        } else {
            args += "1"
            args += finished.request.element
            args += finished.request.replyTo
            args += finished.reply
            args += finished.cache?.key ?: ""
            args += finished.cache?.set ?: ""
            args += finished.cache?.json ?: ""
            args += (finished.cache?.ttlMs ?: 0L).toString()
        }
        val keys = arrayOf(core.keys.proc(core.instance)) + order
        val out = runScript<List<Any>>(Scripts.STEP, ScriptOutputType.MULTI, keys, *args.toTypedArray()).orEmpty()
        val dropped = (out.firstOrNull() as? Long) ?: 0L
        if (dropped > 0) {
            skippedCount.addAndGet(dropped)
            log.debug { "bus '${core.name}': skipped $dropped calls: their callers' deadlines passed" }
        }
        val kind = out.getOrNull(1) as? Long
        if (kind == null || kind == 0L) return null
        val method = byQueue.getValue(order[(out[2] as Long).toInt() - 1])
        val element = out[3].toString()
        val request = parse(element) ?: return malformed(method, element)
        return when (kind) {
            1L -> Taken(method, request, null)
            2L -> Taken(method, request, out[4].toString())
            else -> malformed(method, element)
        }
    }

    /** After a `BRPOP`: the [Scripts.START] checks (deadline, cache meanwhile, recorded as running). */
    private suspend fun picket.core.Commands<String, String>.start(
        method: String,
        element: String,
    ): Taken? {
        val request = parse(element) ?: return malformed(method, element)
        val retention =
            core
                .settings()
                .resultRetention
                .toMillis()
                .toString()
        val started =
            try {
                runScript<List<Any>>(
                    Scripts.START,
                    ScriptOutputType.MULTI,
                    listOfNotNull(core.keys.proc(core.instance), request.cacheKey).toTypedArray(),
                    element,
                    request.deadline.toString(),
                    retention,
                ).orEmpty()
            } catch (
                // Not recorded as running: back to the head of its queue for the next take, then the worker backs off.
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                withContext(NonCancellable) { requeue(method, request) }
                throw e
            }
        return when (started.firstOrNull()) {
            0L -> {
                skippedCount.incrementAndGet()
                log.debug {
                    "bus '${core.name}': skipped call ${request.id} of '$method': its caller's deadline passed"
                }
                null
            }

            2L -> {
                Taken(method, request, started[1].toString())
            }

            else -> {
                Taken(method, request, null)
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

    private fun malformed(
        method: String,
        element: String,
    ): Taken? {
        log.warn { "bus '${core.name}': dropped a malformed request on '$method': ${element.take(MALFORMED_SHOWN)}" }
        return null
    }

    /** A call taken: run it, or reply with [cached] (a result cached while it was queued). */
    private class Taken(
        val method: String,
        val request: Request,
        val cached: String?,
    )

    /** A call ended: its reply (and the result to cache) to send; [attempts] sends have failed so far. */
    private class Finished(
        val request: Request,
        val reply: String,
        val cache: Cached?,
        val attempts: Int = 0,
    ) {
        /** Past this (epoch ms) the caller has given up: its deadline, plus slack for clock skew. */
        val giveUpAt: Long get() = request.deadline + REPLY_SLACK_MS

        /** This reply after one more failed send, or null once its caller has given up. */
        fun retried(): Finished? =
            if (System.currentTimeMillis() < giveUpAt) {
                Finished(request, reply, cache, attempts + 1)
            } else {
                log.warn { "a bus reply could not be sent after ${attempts + 1} attempts; its caller times out" }
                null
            }
    }

    /** Takes one call within [timeout] and handles it; false if none came. */
    suspend fun once(timeout: Duration): Boolean {
        val deadline = System.nanoTime() + timeout.toNanos()
        while (System.nanoTime() < deadline) {
            val taken =
                core.picket.withDedicatedConn(core.blockingSpec) {
                    brpop(core.blockSeconds, *queues.toTypedArray())?.let { start(byQueue.getValue(it.key), it.value) }
                } ?: continue
            handle(taken)?.let { reply(it) }
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

    /** Runs [taken] (or takes its cached result): the reply to send (null: sent already, debug mode stops). */
    private suspend fun handle(taken: Taken): Finished? {
        val request = taken.request
        taken.cached?.let { return Finished(request, okReply(request.id, it), null) }
        val method = taken.method
        val owned = core.owned[method]
        val outcome =
            try {
                val invoker = owned?.invoker ?: error("'$method' is not registered here")
                Result.success(Binding.encode(method, "result", invoker.invoke(method, request.args)))
            } catch (e: CancellationException) {
                val lost = errorReply(request.id, "lost", e, "the worker was stopped with the call running")
                withContext(NonCancellable) { reply(Finished(request, lost, null)) }
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
            val ttl = owned?.entry?.cacheTtlMs ?: 0L
            val cache = request.cacheKey?.let { Cached(it, core.keys.cached(method), text, ttl) }
            return Finished(request, okReply(request.id, text), cache)
        }
        val arguments = error is InvalidArgumentsException
        val message = (error as? InvalidArgumentsException)?.reason
        val finished =
            Finished(request, errorReply(request.id, if (arguments) "arguments" else "remote", error, message), null)
        if (debug) {
            // Sent before the worker stops, so that the caller has it when join() throws.
            reply(finished)
            stopForDebug(method, error)
            return null
        }
        return finished
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
    private suspend fun reply(finished: Finished) {
        val request = finished.request
        val cache = finished.cache
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
                arrayOf(request.element, finished.reply, retention)
            } else {
                arrayOf(request.element, finished.reply, retention, cache.json, cache.ttlMs.toString())
            }
        // Retried until the caller's deadline (plus slack for clock skew): past it the caller has given up.
        val giveUpAt = maxOf(finished.giveUpAt, System.currentTimeMillis())
        val backoff = Backoff(MIN_BACKOFF_MS, MAX_BACKOFF_MS)
        var attempt = finished.attempts
        while (true) {
            attempt++
            try {
                core.picket.withConn(
                    core.spec,
                ) { runScript<Long>(Scripts.REPLY, ScriptOutputType.INTEGER, keys, *args) }
                return
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                if (core.closedCause(e) || System.currentTimeMillis() + backoff.upcomingMs > giveUpAt) break
                log.debug { "bus '${core.name}': reply failed (${e.message}), attempt $attempt" }
                backoff.pause()
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
        const val MOST_DROPPED = 64
        const val STEP_FIXED_ARGS = 3
        const val STEP_REPLY_ARGS = 7
        const val MALFORMED_SHOWN = 200
    }
}
