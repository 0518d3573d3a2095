package picket.bus.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.bus.BusServer
import picket.bus.DebugStopException
import picket.bus.NothingToServeException
import picket.core.InvalidSpecException
import picket.core.internal.javaCalls
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong

private val log = KotlinLogging.logger {}

/**
 * The workers serving [methods] of [bus], started by [serve]: [concurrency] [Worker]s, each taking one call at a
 * time; [runner] runs the calls, [sender] sends the replies that do not go with a step. Its methods are leased as
 * served by the [Heartbeat] while it runs.
 */
internal class RealBusServer private constructor(
    val bus: RealBus,
    override val methods: List<String>,
    private val concurrency: Int,
    debug: Boolean,
) : BusServer {
    val queues: List<String> = methods.map { bus.keys.queue(it) }
    val byQueue: Map<String, String> = methods.associateBy { bus.keys.queue(it) }
    val sender = ReplySender(bus)
    val runner = CallRunner(bus, debug, sender, ::stopForDebug)
    private val stopping = AtomicBoolean(false)
    private val unserved = AtomicBoolean(false)
    private val skippedCount = AtomicLong()
    private val done = CompletableDeferred<Unit>()
    private val jobs = mutableListOf<Job>()
    private val blockingView = BusServer.Blocking(this, bus.picket)
    private val asyncView = BusServer.Async(this, bus.picket)

    @Volatile
    private var debugStop: DebugStopException? = null

    override val handled: Long get() = runner.handled
    override val skipped: Long get() = skippedCount.get()
    override val isRunning: Boolean get() = !done.isCompleted

    /** Whether the workers are to stop (by [stop], a debug stop, or the bus closing). */
    val isStopping: Boolean get() = stopping.get()

    fun countSkipped(calls: Long) {
        skippedCount.addAndGet(calls)
    }

    /** A worker found the bus or its Picket closed: the workers stop, and the bus closes (terminal). */
    fun stopOnClosed(cause: Throwable) {
        stopping.set(true)
        bus.terminate(cause)
    }

    private fun start() {
        repeat(concurrency) { n -> jobs += bus.scope.launch { Worker(this@RealBusServer, n).supervised() } }
        bus.scope.launch {
            jobs.joinAll()
            unserve()
            done.complete(Unit)
        }
    }

    private fun stopForDebug(
        method: String,
        error: Throwable,
    ) {
        val stop = DebugStopException(method, error)
        log.error(error) {
            "DEBUG MODE: bus '${bus.name}' worker stopped at the first exception, in '$method' " +
                "(never run debug mode in production)"
        }
        if (debugStop == null) debugStop = stop
        stopping.set(true)
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
        bus.servers.remove(this)
        val gone = bus.heartbeat.unserving(methods)
        if (gone.isEmpty()) return
        runCatching {
            withContext(NonCancellable) {
                bus.picket.withConn(bus.spec) { gone.forEach { zrem(bus.keys.workers(it), bus.instance) } }
            }
        }
    }

    override suspend fun join() {
        done.await()
        debugStop?.let { throw it }
    }

    override fun blocking(): BusServer.Blocking = blockingView

    override fun async(): BusServer.Async = asyncView

    override fun close() {
        // On the calling thread; runs to its end even if the Picket was closed first.
        runCatching {
            bus.picket.javaCalls().blocking("close of bus server $methods") {
                withContext(NonCancellable) { stop(Duration.ofSeconds(BusServer.DEFAULT_DRAIN_SECONDS)) }
            }
        }
    }

    companion object {
        /**
         * Starts [concurrency] workers for [bus]'s own methods matching [pattern] ([picket.bus.Bus.serve]); the first
         * heartbeat must succeed, else nothing is left advertised and its error is thrown.
         */
        suspend fun serve(
            bus: RealBus,
            pattern: String,
            concurrency: Int,
            debug: Boolean,
        ): BusServer {
            if (concurrency < 1) throw InvalidSpecException("serve concurrency is $concurrency, must be >= 1")
            val server = RealBusServer(bus, matching(bus, pattern), concurrency, debug)
            if (debug) warnDebug(bus, pattern)
            bus.heartbeat.serving(server.methods)
            bus.servers += server
            try {
                bus.heartbeat.beat()
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                // Nothing half-done: the counts and the server go, as if serve had not been called.
                bus.servers.remove(server)
                bus.heartbeat.unserving(server.methods)
                throw e
            }
            bus.heartbeat.start()
            server.start()
            return server
        }

        /** Handles one call of [bus]'s methods matching [pattern] within [timeout] ([picket.bus.Bus.serveOnce]). */
        suspend fun serveOnce(
            bus: RealBus,
            pattern: String,
            timeout: Duration,
            debug: Boolean,
        ): Boolean {
            val server = RealBusServer(bus, matching(bus, pattern), 1, debug)
            if (debug) warnDebug(bus, pattern)
            bus.heartbeat.serving(server.methods)
            return try {
                bus.heartbeat.beat()
                Worker(server, 0).once(timeout).also { taken ->
                    if (taken) server.debugStop?.let { throw it.cause ?: it }
                }
            } finally {
                bus.heartbeat.unserving(server.methods)
            }
        }

        private fun matching(
            bus: RealBus,
            pattern: String,
        ): List<String> {
            bus.checkOpen()
            val glob = globRegex(pattern)
            val owned = bus.registry.owned.keys
            val methods = owned.filter { glob.matches(it) }.sorted()
            if (methods.isEmpty()) throw NothingToServeException(bus.name, pattern, owned)
            return methods
        }

        private fun warnDebug(
            bus: RealBus,
            pattern: String,
        ) {
            log.warn {
                "DEBUG MODE is on for bus '${bus.name}' ($pattern): the worker stops at the first exception of a " +
                    "method. Never use it in production."
            }
        }

        /** [pattern] as a regex: `*` any run of characters, `?` one, everything else itself. */
        fun globRegex(pattern: String): Regex =
            Regex(
                pattern
                    .map { c ->
                        when (c) {
                            '*' -> ".*"
                            '?' -> "."
                            else -> Regex.escape(c.toString())
                        }
                    }.joinToString(""),
            )
    }
}
