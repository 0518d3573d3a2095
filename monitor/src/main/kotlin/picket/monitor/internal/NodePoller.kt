package picket.monitor.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisCommandExecutionException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.Semaphore
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.sync.withPermit
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.internal.Backoff
import picket.core.internal.closeConnections
import picket.core.internal.unlessCancelled
import picket.monitor.MonitorEvent
import picket.monitor.MonitorOptions
import picket.monitor.MonitoredNode
import picket.monitor.NodeInfo
import picket.monitor.NodeState
import picket.monitor.Role
import java.time.Duration
import java.time.Instant
import java.util.concurrent.atomic.AtomicLong

private val log = KotlinLogging.logger {}

/**
 * One node's poller: one coroutine, one connection (a direct spec of its own client name, so never shared with the
 * application's blocks), its INFO cache and its interval.
 */
@OptIn(InternalPicketApi::class)
internal class NodePoller(
    @Volatile var node: MonitoredNode,
    private val picket: Picket,
    private val options: MonitorOptions,
    private val permits: Semaphore,
    private val emit: (MonitorEvent) -> Unit,
) {
    /** The scope of this poller's own connection, so that [stop] closes it (and no other). */
    private val connectionScope = "${options.clientName}-${SEQUENCE.incrementAndGet()}"
    private val permitBound = options.commandTimeout.toMillis() + BOUND_MARGIN_MS
    private val pollLock = Mutex()
    private val stateLock = Any()
    private var info: NodeInfo? = null
    private var infoNanos = 0L
    private var infoAt: Instant? = null
    private var interval: Duration = options.initialInterval
    private var lastError: String? = null
    private var failingSince: Instant? = null
    private var failingSinceNanos = 0L
    private var failures = 0
    private var down = false
    private var polls = 0L
    private var retryIn: Duration? = null

    @Volatile
    private var command = EVERYTHING
    private var job: Job? = null

    fun start(scope: CoroutineScope) {
        job = scope.launch { loop() }
    }

    /** Stops polling and closes the node's connection. */
    fun stop() {
        job?.cancel()
        picket.closeConnections(connectionScope)
    }

    fun state(): NodeState =
        synchronized(stateLock) {
            NodeState(
                node = node,
                info = info,
                infoAt = infoAt,
                infoAge = info?.let { Duration.ofNanos(System.nanoTime() - infoNanos) },
                interval = interval,
                lastError = lastError,
                failingSince = failingSince,
                consecutiveFailures = failures,
                down = down,
                polls = polls,
                command = command,
                retryIn = retryIn,
            )
        }

    /** Polls now, apart from the schedule (a forced refresh); true if it succeeded. */
    suspend fun pollNow(): Boolean = poll()

    private suspend fun loop() {
        // delay() ends the loop when the poller is cancelled.
        while (true) {
            val ok =
                unlessCancelled({ e ->
                    emit(MonitorEvent.PollerFailed(node, e))
                    false
                }) { poll() }
            delay(synchronized(stateLock) { if (ok) interval else retryIn ?: interval }.toMillis())
        }
    }

    private suspend fun poll(): Boolean =
        pollLock.withLock {
            val outcome = fetch()
            outcome.fold(onSuccess = { succeeded(it) }, onFailure = { failed(it) })
            outcome.isSuccess
        }

    /**
     * One INFO, falling back from `everything` to `all` for a server that does not know it (an empty reply) or
     * refuses it (an error reply: an ACL user allowed `INFO all` only, an old server).
     *
     * The node is connected to before a permit is taken ([Picket.withConn] connects, then runs the block): a node
     * that does not accept connections, or drops packets, waits out its connect timeout without holding one. A
     * permit is held only while an `INFO` is in flight on an open connection, at most [MonitorOptions.commandTimeout]
     * (plus a margin); after a failed poll the connection is closed, so that a node that stopped answering is
     * connected to afresh, again without a permit, on its next attempt.
     */
    private suspend fun fetch(): Result<NodeInfo> {
        val bound = options.connectTimeout.toMillis() + options.commandTimeout.toMillis() + BOUND_MARGIN_MS
        return try {
            val text =
                withTimeoutOrNull(bound) {
                    picket.withConn(spec()) {
                        permits.withPermit { withTimeoutOrNull(permitBound) { fetchText { info(it) } } }
                    }
                }
            when {
                text == null -> Result.failure(PollTimeout("no INFO reply within $bound ms"))
                text.isBlank() -> Result.failure(PollTimeout("empty INFO reply"))
                else -> Result.success(NodeInfo.parse(text))
            }
        } catch (e: CancellationException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            Result.failure(e)
        }.also { if (it.isFailure) picket.closeConnections(connectionScope) }
    }

    /** `INFO <command>`, and `INFO all` at once if the server does not know `everything` or refuses it. */
    private suspend fun fetchText(info: suspend (String) -> String?): String? {
        if (command == EVERYTHING) {
            val text =
                try {
                    info(EVERYTHING)
                } catch (e: RedisCommandExecutionException) {
                    log.info { "node ${node.id} refuses INFO everything (${e.message}): polled with INFO all" }
                    null
                }
            if (!text.isNullOrBlank()) return text
            command = ALL
        }
        return info(ALL)
    }

    private fun succeeded(fresh: NodeInfo) {
        val next =
            try {
                val current = synchronized(stateLock) { interval }
                options.policy
                    .next(current, fresh, options.minInterval, options.maxInterval)
                    .coerceIn(options.minInterval, options.maxInterval)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                emit(MonitorEvent.PollerFailed(node, e))
                null
            }
        var recovered: Duration? = null
        synchronized(stateLock) {
            info = fresh
            infoNanos = System.nanoTime()
            infoAt = Instant.now()
            if (next != null) interval = next
            if (down) recovered = Duration.ofNanos(System.nanoTime() - failingSinceNanos)
            lastError = null
            failingSince = null
            failures = 0
            down = false
            retryIn = null
            polls++
        }
        recovered?.let {
            log.info { "node ${node.id} answers again after ${it.toMillis()} ms" }
            emit(MonitorEvent.NodeUp(node, it))
        }
    }

    private fun failed(error: Throwable) {
        val text = describe(error)
        var declared: MonitorEvent.NodeDown? = null
        val count: Int
        synchronized(stateLock) {
            lastError = text
            if (failures == 0) {
                failingSince = Instant.now()
                failingSinceNanos = System.nanoTime()
            }
            failures++
            count = failures
            retryIn = backoff(failures)
            if (!down && failures >= options.failureGrace) {
                down = true
                declared = MonitorEvent.NodeDown(node, text, failingSince!!)
            }
        }
        when {
            declared != null -> {
                log.warn { "node ${node.id} is down: $count polls failed in a row, the last: $text" }
            }

            count > options.failureGrace && count % options.failureGrace == 0 -> {
                log.warn { "node ${node.id} still down: $count polls failed in a row, the last: $text" }
            }

            else -> {
                log.debug { "node ${node.id}: poll $count failed: $text" }
            }
        }
        declared?.let(emit)
    }

    /** The wait before the next attempt after [count] failures: the cool-off, doubled per failure, capped. */
    private fun backoff(count: Int): Duration =
        Duration.ofMillis(Backoff.after(count, options.coolOff.toMillis(), options.maxBackoff.toMillis()))

    private fun spec(): ConnSpec {
        val current = node
        // Every node of a group is reached through the group's address mapping (Docker, NAT), as Picket reaches
        // them; a sentinel also with the group's sentinel credentials and TLS, a data node with the monitor's own.
        val declared =
            current.group?.let { name -> runCatching { picket.sentinelGroup(name) }.getOrNull() }
        val group = declared?.takeIf { current.role == Role.SENTINEL }
        val address = declared?.addressMapper?.map(current.address) ?: current.address
        return ConnSpec(
            host = address.host,
            port = address.port,
            username = if (group != null) group.username else options.username,
            password = if (group != null) group.password else options.password,
            tls = if (group != null) group.tls else options.tls,
            clientName = options.clientName,
            connectionScope = connectionScope,
            connectTimeout = options.connectTimeout,
            commandTimeout = options.commandTimeout,
        )
    }

    private class PollTimeout(
        message: String,
    ) : Exception(message)

    companion object {
        const val EVERYTHING = "everything"
        const val ALL = "all"
        private const val BOUND_MARGIN_MS = 500L
        private val SEQUENCE = AtomicLong()

        /** A short description: the root cause's message, never a password (Lettuce omits them). */
        fun describe(error: Throwable): String {
            val root = generateSequence(error) { it.cause }.last()
            val text = root.message ?: root::class.simpleName ?: "error"
            return if (root === error) text else "${error.message ?: error::class.simpleName}: $text"
        }
    }
}
