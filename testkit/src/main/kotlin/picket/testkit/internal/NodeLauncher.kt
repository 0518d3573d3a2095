package picket.testkit.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisException
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.StatusOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
import picket.testkit.NodeKind
import picket.testkit.RedisBinary
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyException
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/** Said once per JVM: sentinels before Redis 7.0 keep their 10 s INFO period. */
private val infoPeriodNoticeGiven = AtomicBoolean(false)

/**
 * Starts nodes of a topology: writes their configuration, launches their processes, waits until each one's own
 * process answers (moving it to another port when another process took its port first), and tunes sentinels.
 */
internal class NodeLauncher(
    private val config: TopologyConfig,
    private val binary: RedisBinary,
    private val admin: Admin,
) {
    /** Writes each node's configuration, starts them all, then waits for each to answer PING. */
    fun launch(
        nodes: List<RedisNode>,
        remaining: () -> Duration,
        writeConfig: (RedisNode) -> Unit,
    ) {
        nodes.forEach {
            writeConfig(it)
            it.process.launch(binary)
        }
        nodes.forEach { node ->
            var attempt = 0
            while (!awaitUp(node, remaining(), retryOtherPort = attempt < PORT_ATTEMPTS)) {
                attempt++
                node.port = Ports.next()
                writeConfig(node)
                node.process.launch(binary)
            }
            tune(node)
        }
    }

    /** Starts [node] again on its port (a restart: its configuration is written already). */
    fun relaunch(
        node: RedisNode,
        timeout: Duration,
    ) {
        node.process.launch(binary)
        awaitUp(node, timeout, retryOtherPort = false)
        tune(node)
    }

    /**
     * Sets a sentinel's INFO period ([TopologyConfig.sentinelInfoPeriod]); not kept in its file, so at every start.
     * Sentinels before Redis 7.0 have no `SENTINEL DEBUG`: they keep their 10 s, which is said once per JVM at INFO
     * (nothing to act on: settling after a failover just takes longer).
     */
    private fun tune(node: RedisNode) {
        val period = config.sentinelInfoPeriod ?: return
        if (node.kind != NodeKind.SENTINEL) return
        if (RedisBinary.compareVersions(binary.version, SENTINEL_DEBUG_SINCE) < 0) {
            if (infoPeriodNoticeGiven.compareAndSet(false, true)) {
                log.info {
                    "Redis ${binary.version} sentinels have no SENTINEL DEBUG ($SENTINEL_DEBUG_SINCE+): they keep " +
                        "their 10 s INFO period, so topologies settle more slowly after a failover"
                }
            }
            return
        }
        // It follows an INFO the sentinel answered: a connection-level failure here (a stalled start, a handshake
        // timeout) passes, so it is retried, each time logged, for at most TUNE_TIMEOUT; a refusal is not.
        awaitState("$node to take SENTINEL DEBUG info-period", TUNE_TIMEOUT) {
            if (!node.isRunning) {
                throw TopologyException(
                    "$node exited at start-up; its log ends with:\n" + node.logTail().joinToString("\n"),
                )
            }
            try {
                admin.sentinel(node) { sentinel ->
                    sentinel.dispatch(
                        CommandType.SENTINEL,
                        StatusOutput(StringCodec.UTF8),
                        CommandArgs(StringCodec.UTF8).add("DEBUG").add("info-period").add(period.toMillis()),
                    )
                }
                null
            } catch (e: RedisCommandExecutionException) {
                // A 7.0+ sentinel that refuses it: unexpected, and failovers will settle 9 s more slowly.
                log.warn { "$node refused SENTINEL DEBUG info-period and keeps its INFO period: ${e.message}" }
                null
            } catch (e: RedisException) {
                log.info { "$node did not take SENTINEL DEBUG info-period, trying again: ${e.message}" }
                "${e::class.simpleName}: ${e.message}"
            }
        }
    }

    /**
     * Waits until [node]'s own process answers on its port. Returns false if it exited because its port was taken
     * and [retryOtherPort] allows another; throws with its log otherwise.
     */
    private fun awaitUp(
        node: RedisNode,
        timeout: Duration,
        retryOtherPort: Boolean,
    ): Boolean {
        var portTaken = false
        awaitState("$node to answer", timeout) {
            if (!node.isRunning) {
                val logTail = node.logTail()
                if (retryOtherPort && logTail.any { "Address already in use" in it }) {
                    portTaken = true
                    return@awaitState null
                }
                throw TopologyException("$node exited at start-up; its log ends with:\n" + logTail.joinToString("\n"))
            }
            // A port is free when Ports hands it out but can be taken before the node binds it (another JVM's kit,
            // a client's ephemeral port): the node then exits with "Address already in use", and until that exit is
            // seen the other process answers on the port, which the kit would go on to configure as its own.
            val answering = admin.processId(node, ANSWER_TIMEOUT)
            val own = node.pid
            if (answering == own) null else "port ${node.port} answered by pid $answering, not by ${node.name}'s $own"
        }
        return !portTaken
    }

    private companion object {
        const val PORT_ATTEMPTS = 5
        const val SENTINEL_DEBUG_SINCE = "7.0"
        val TUNE_TIMEOUT: Duration = Duration.ofSeconds(10)
        val ANSWER_TIMEOUT: Duration = Duration.ofMillis(500)
    }
}
