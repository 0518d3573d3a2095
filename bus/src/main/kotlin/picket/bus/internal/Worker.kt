@file:Suppress("SpreadOperator") // Lettuce takes keys and script arguments as varargs; a handful per call

package picket.bus.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.delay
import kotlinx.coroutines.withContext
import picket.core.Commands
import picket.core.internal.Backoff
import picket.core.internal.runScript
import java.time.Duration

private val log = KotlinLogging.logger {}

/**
 * One worker of [server]: on a dedicated connection held for as long as it works, a [Scripts.STEP] ends the call it
 * finished and takes the next one in one round trip; only when nothing is queued does it block (`BRPOP`, then
 * [Scripts.START]). The queues' order rotates per take (fair across methods; `LPUSH` + `RPOP`/`BRPOP`: FIFO within
 * one). A reply that could not be sent is sent again with the next step, until its caller's deadline plus slack.
 */
internal class Worker(
    private val server: RealBusServer,
    private val n: Int,
) {
    private val bus = server.bus
    private val queues = server.queues
    private val byQueue = server.byQueue

    /** The reply this worker has yet to send (with its next step). */
    private var outbox: Finished? = null

    /** Runs the take loop, restarting it if it dies of anything but cancellation: a worker never vanishes silently. */
    suspend fun supervised() {
        while (!server.isStopping) {
            try {
                takeLoop()
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                log.error(e) { "bus '${bus.name}' worker $n died; restarting it" }
                delay(MAX_BACKOFF_MS)
            }
        }
    }

    private suspend fun takeLoop() {
        outbox = null
        try {
            serveLoop()
        } finally {
            // Stopped or cancelled with a reply not yet sent: send it (a duplicate, if its step did run, is harmless).
            outbox?.let { withContext(NonCancellable) { server.sender.send(it) } }
        }
    }

    private suspend fun serveLoop() {
        var turn = n
        val backoff = Backoff(MIN_BACKOFF_MS, MAX_BACKOFF_MS)
        while (!server.isStopping) {
            try {
                bus.picket.withDedicatedConn(bus.blockingSpec) {
                    // After a BRPOP that timed out, nothing to send and nothing queued: block again without a step.
                    var idle = false
                    while (!server.isStopping) {
                        val order = List(queues.size) { queues[(it + turn) % queues.size] }
                        turn++
                        val taken = if (idle && outbox == null) null else step(order, outbox)
                        outbox = null
                        backoff.reset()
                        val popped = if (taken == null) brpop(bus.blockSeconds, *order.toTypedArray()) else null
                        idle = taken == null && popped == null
                        val call = taken ?: popped?.let { start(byQueue.getValue(it.key), it.value) } ?: continue
                        outbox = server.runner.handle(call)
                    }
                }
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                if (bus.closedCause(e)) {
                    // Terminal (the Picket or the bus is closed): stop instead of retrying forever.
                    server.stopOnClosed(e)
                    return
                }
                log.debug {
                    "bus '${bus.name}' worker: taking failed (${e.message}); again in ${backoff.upcomingMs} ms"
                }
                outbox = outbox?.retried()
                backoff.pause()
            }
        }
    }

    /** Takes one call within [timeout] and handles it (for `serveOnce`); false if none came. */
    suspend fun once(timeout: Duration): Boolean {
        val deadline = System.nanoTime() + timeout.toNanos()
        while (System.nanoTime() < deadline) {
            val taken =
                bus.picket.withDedicatedConn(bus.blockingSpec) {
                    brpop(bus.blockSeconds, *queues.toTypedArray())?.let { start(byQueue.getValue(it.key), it.value) }
                } ?: continue
            server.runner.handle(taken)?.let { server.sender.send(it) }
            return true
        }
        return false
    }

    /** Ends [finished] (if any) and takes the next call without blocking: a [Scripts.STEP]. */
    private suspend fun Commands<String, String>.step(
        order: List<String>,
        finished: Finished?,
    ): Taken? {
        val retention = bus.retentionMs()
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
        val keys = arrayOf(bus.keys.proc(bus.instance)) + order
        val out = runScript<List<Any>>(Scripts.STEP, ScriptOutputType.MULTI, keys, *args.toTypedArray()).orEmpty()
        val dropped = (out.firstOrNull() as? Long) ?: 0L
        if (dropped > 0) {
            server.countSkipped(dropped)
            log.debug { "bus '${bus.name}': skipped $dropped calls: their callers' deadlines passed" }
        }
        val kind = out.getOrNull(1) as? Long
        if (kind == null || kind == 0L) return null
        val method = byQueue.getValue(order[(out[2] as Long).toInt() - 1])
        val element = out[3].toString()
        val request = Request.parse(element) ?: return malformed(method, element)
        return when (kind) {
            1L -> Taken(method, request, null)
            2L -> Taken(method, request, out[4].toString())
            else -> malformed(method, element)
        }
    }

    /** After a `BRPOP`: the [Scripts.START] checks (deadline, cache meanwhile, recorded as running). */
    private suspend fun Commands<String, String>.start(
        method: String,
        element: String,
    ): Taken? {
        val request = Request.parse(element) ?: return malformed(method, element)
        val retention = bus.retentionMs()
        val started =
            try {
                runScript<List<Any>>(
                    Scripts.START,
                    ScriptOutputType.MULTI,
                    listOfNotNull(bus.keys.proc(bus.instance), request.cacheKey).toTypedArray(),
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
                server.countSkipped(1)
                log.debug {
                    "bus '${bus.name}': skipped call ${request.id} of '$method': its caller's deadline passed"
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
        runCatching { bus.picket.withConn(bus.spec) { rpush(bus.keys.queue(method), request.element) } }
            .onFailure { log.warn { "bus '${bus.name}': call ${request.id} of '$method' is lost: ${it.message}" } }
    }

    private fun malformed(
        method: String,
        element: String,
    ): Taken? {
        log.warn { "bus '${bus.name}': dropped a malformed request on '$method': ${element.take(MALFORMED_SHOWN)}" }
        return null
    }

    private companion object {
        const val MIN_BACKOFF_MS = 50L
        const val MAX_BACKOFF_MS = 1_000L
        const val MOST_DROPPED = 64
        const val STEP_FIXED_ARGS = 3
        const val STEP_REPLY_ARGS = 7
        const val MALFORMED_SHOWN = 200
    }
}
