package picket.testkit

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisException
import picket.testkit.internal.Admin
import picket.testkit.internal.Convergence
import picket.testkit.internal.NodeConfigs
import picket.testkit.internal.NodeLauncher
import picket.testkit.internal.Ports
import picket.testkit.internal.ProcessRegistry
import picket.testkit.internal.awaitState
import java.net.InetSocketAddress
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/**
 * Real `redis-server` masters, replicas and sentinels on loopback, started by [start] and stopped by [close],
 * with the faults a failover test needs: [kill], [pause]/[resume], [stop]/[restart] and [failover], and
 * [awaitMaster] to wait until the sentinels agree again.
 *
 * No process outlives the topology: [close] kills every node, a JVM shutdown hook kills what is left, and the next
 * start in any JVM kills processes whose JVM died (pid files under `$TMPDIR/picket-testkit/pids`).
 *
 * ```kotlin
 * Topology.start(TopologyConfig(replicasPerMaster = 2, sentinels = 3)).use { topology ->
 *     val master = topology.awaitMaster("mymaster")
 *     topology.kill(master)
 *     val promoted = topology.awaitMaster("mymaster", notEqualTo = master)
 * }
 * ```
 *
 * All methods block the calling thread; they are safe to call from several threads.
 */
public class Topology private constructor(
    /** What was asked for. */
    public val config: TopologyConfig,
    /** The `redis-server` every node runs. */
    public val binary: RedisBinary,
    private val baseDir: Path,
) : AutoCloseable {
    /** The certificates of a TLS topology ([TopologyConfig.tls]), or null. */
    public val tls: TlsFiles? = config.tls?.let { TlsFiles.generate(baseDir.resolve("tls"), it.certificateNames) }

    private val admin = Admin(config, tls)
    private val configs = NodeConfigs(config, tls)
    private val launcher = NodeLauncher(config, binary, admin)
    private val closed = AtomicBoolean(false)

    private val groups: Map<String, List<RedisNode>> =
        config.masterNames.associateWith { masterName ->
            (0..config.replicasPerMaster).map { index -> newNode("$masterName-$index", NodeKind.DATA, masterName) }
        }

    /** The sentinels, each monitoring every master name. */
    public val sentinels: List<RedisNode> =
        (0 until config.sentinels).map {
            newNode("sentinel-$it", NodeKind.SENTINEL, null)
        }

    /** Every data node, masters and replicas of every master name. */
    public val dataNodes: List<RedisNode> = groups.values.flatten()

    /** Every node: data nodes, then sentinels. */
    public val nodes: List<RedisNode> = dataNodes + sentinels

    private val extras = CopyOnWriteArrayList<RedisNode>()

    /**
     * Nodes started after [start] by [startReplica] and [startSentinel], in the order started: not in [nodes] or
     * [dataNodes], not waited for by [awaitMaster], stopped by [close] like the others.
     */
    public val extraNodes: List<RedisNode> get() = extras.toList()

    /** The master names the sentinels monitor. */
    public val masterNames: List<String> get() = config.masterNames

    /** How long [start] took until every group had settled. */
    public var startupTime: Duration = Duration.ZERO
        private set

    private val convergence = Convergence(admin, sentinels, ::nodeAt) { groups[it].orEmpty() }

    /**
     * The data nodes of [masterName]'s group, the initial master first.
     *
     * @throws IllegalArgumentException if the topology has no such master name.
     */
    public fun dataNodes(masterName: String): List<RedisNode> =
        requireNotNull(groups[masterName]) { "no master name '$masterName' in this topology (has ${groups.keys})" }

    /** The node listening at [address] (`host:port`), or null. */
    public fun nodeAt(address: String): RedisNode? = nodes.firstOrNull { it.address == address }

    /** What [node] says it is now (`ROLE`); [NodeRole.Unavailable] if it is down, paused or does not answer. */
    public fun role(node: RedisNode): NodeRole = admin.role(node)

    /** The current role of every node. */
    public fun roles(): Map<RedisNode, NodeRole> = nodes.associateWith { role(it) }

    /**
     * The master of [masterName] as the first live sentinel reports it, without waiting for agreement.
     *
     * @throws TopologyException if no sentinel is live, or the one asked does not answer.
     */
    public fun currentMaster(masterName: String): RedisNode {
        dataNodes(masterName)
        val sentinel =
            sentinels.firstOrNull { it.isRunning && !it.isPaused }
                ?: throw TopologyException("no live sentinel to ask for the master of '$masterName'")
        val address =
            try {
                admin.sentinel(sentinel) { it.getMasterAddrByName(masterName) } as InetSocketAddress
            } catch (e: RedisException) {
                throw TopologyException("$sentinel did not name the master of '$masterName': ${e.message}", e)
            }
        return nodeAt("${address.hostString}:${address.port}")
            ?: throw TopologyException(
                "$sentinel names ${address.hostString}:${address.port}, not a node of this topology",
            )
    }

    /** Kills [node] with SIGKILL (`kill -9`) and waits until its process is gone. */
    public fun kill(node: RedisNode) {
        checkOwned(node)
        log.info { "kill -9 $node" }
        node.process.kill()
    }

    /** Stops [node] with SIGTERM, as a clean shutdown, and waits until its process is gone. */
    public fun stop(node: RedisNode) {
        checkOwned(node)
        log.info { "stop $node" }
        node.process.stop()
    }

    /**
     * Starts a killed or stopped [node] again, on its port, from its configuration file (which a sentinel has
     * rewritten with what it learnt), and waits until it answers. A data node that was master comes back as
     * master until Sentinel converts it.
     *
     * @throws TopologyException if it is still running, or does not answer within [timeout].
     */
    @JvmOverloads
    public fun restart(
        node: RedisNode,
        timeout: Duration = Duration.ofSeconds(30),
    ) {
        checkOwned(node)
        if (node.isRunning) throw TopologyException("cannot restart $node: it is still running")
        log.info { "restart $node" }
        launcher.relaunch(node, timeout)
    }

    /**
     * Starts one more data node, a replica of [masterName]'s current master (as the first live sentinel names it),
     * and waits until it answers. The sentinels discover it through the master's INFO (`+slave`); to make them
     * forget it after [stop] or [kill], send them `SENTINEL RESET`. It is listed in [extraNodes].
     *
     * @throws TopologyException if no sentinel names the master, or the node does not answer within [timeout].
     */
    @JvmOverloads
    public fun startReplica(
        masterName: String,
        timeout: Duration = Duration.ofSeconds(30),
    ): RedisNode {
        val master = currentMaster(masterName)
        return startExtra("$masterName-extra-${extras.size}", NodeKind.DATA, masterName, timeout) {
            configs.writeData(it, master)
        }
    }

    /**
     * Starts one more sentinel, monitoring every master name at its current master (as the first live sentinel
     * names it), and waits until it answers. The other sentinels discover it through the masters' hello channel
     * (`+sentinel`); to make them forget it after [stop] or [kill], send them `SENTINEL RESET`. It is listed in
     * [extraNodes].
     *
     * @throws TopologyException if no sentinel names a master, or the node does not answer within [timeout].
     */
    @JvmOverloads
    public fun startSentinel(timeout: Duration = Duration.ofSeconds(30)): RedisNode {
        val masters = masterNames.associateWith { currentMaster(it) }
        return startExtra("sentinel-extra-${extras.size}", NodeKind.SENTINEL, null, timeout) {
            configs.writeSentinel(it, masters)
        }
    }

    private fun startExtra(
        name: String,
        kind: NodeKind,
        masterName: String?,
        timeout: Duration,
        writeConfig: (RedisNode) -> Unit,
    ): RedisNode {
        check(!closed.get()) { "the topology is closed" }
        val node = newNode(name, kind, masterName).also { extras += it }
        log.info { "start extra $node" }
        val began = System.nanoTime()
        launcher.launch(
            listOf(node),
            { Duration.ofNanos(timeout.toNanos() - (System.nanoTime() - began)) },
            writeConfig,
        )
        return node
    }

    /** Pauses [node] with SIGSTOP: it keeps its connections open but answers nothing until [resume]. */
    public fun pause(node: RedisNode) {
        checkOwned(node)
        log.info { "pause $node" }
        node.process.pause()
    }

    /** Resumes a node paused with [pause] (SIGCONT). */
    public fun resume(node: RedisNode) {
        checkOwned(node)
        log.info { "resume $node" }
        node.process.resume()
    }

    /**
     * Sends `SENTINEL FAILOVER masterName` to [via] (default: the first live sentinel) and returns that sentinel.
     * It returns as soon as the sentinel accepted; use [awaitMaster] to wait for the outcome.
     *
     * @throws TopologyException if no sentinel is live or the sentinel refuses (e.g. `INPROG`, `NOGOODSLAVE`).
     */
    @JvmOverloads
    public fun failover(
        masterName: String,
        via: RedisNode? = null,
    ): RedisNode {
        dataNodes(masterName)
        val sentinel =
            via?.also { checkOwned(it) }
                ?: sentinels.firstOrNull { it.isRunning && !it.isPaused }
                ?: throw TopologyException("no live sentinel to send SENTINEL FAILOVER $masterName to")
        log.info { "SENTINEL FAILOVER $masterName via $sentinel" }
        try {
            admin.sentinel(sentinel) { it.failover(masterName) }
        } catch (e: RedisException) {
            throw TopologyException("$sentinel refused SENTINEL FAILOVER $masterName: ${e.message}", e)
        }
        return sentinel
    }

    /**
     * Waits until [masterName]'s group has settled and returns its master: every live sentinel names the same
     * master (other than [notEqualTo], if given) and flags it plainly `master` (no failover in progress), that node
     * says it is master, every other live data node of the group is its replica with a connected link, and every
     * live sentinel sees each of those replicas as a plain `slave` with its link ok (so that a failover triggered
     * right away can pick one).
     *
     * After a manual failover the demoted master still reports the master role: Sentinel converts it to a replica
     * only once it has reported that role for four of its 2 s hello periods (about 8 s after the switch), and sees
     * it as a good replica at its next `INFO` to it ([TopologyConfig.sentinelInfoPeriod]: the kit's 1 s, Sentinel's
     * default 10 s), so this waits that long; after a kill -9 the dead node is not waited for.
     *
     * @throws TopologyException with the last reason it was not settled, after [timeout].
     */
    @JvmOverloads
    public fun awaitMaster(
        masterName: String,
        notEqualTo: RedisNode? = null,
        timeout: Duration = Duration.ofSeconds(60),
    ): RedisNode = awaitSettled(masterName, notEqualTo, timeout, startup = false)

    private fun awaitSettled(
        masterName: String,
        notEqualTo: RedisNode?,
        timeout: Duration,
        startup: Boolean,
    ): RedisNode {
        val group = dataNodes(masterName)
        var master: RedisNode? = null
        val what = "'$masterName' to settle" + (notEqualTo?.let { " on a master other than $it" } ?: "")
        awaitState(what, timeout) {
            val (node, reason) = convergence.check(masterName, group, notEqualTo, startup)
            master = node
            reason
        }
        return master!!
    }

    /** Kills every node and deletes their folders; calling it again does nothing. */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        (nodes + extras).forEach {
            runCatching { it.process.kill() }.onFailure { e -> log.warn(e) { "could not kill $it" } }
        }
        admin.close()
        baseDir.toFile().deleteRecursively()
        log.info { "topology stopped: ${nodes.size + extras.size} nodes" }
    }

    override fun toString(): String = "Topology(${nodes.joinToString()}, $binary)"

    private fun newNode(
        name: String,
        kind: NodeKind,
        masterName: String?,
    ): RedisNode {
        val dir = Files.createDirectories(baseDir.resolve(name))
        val host = if (config.announceHostnames) HOST_NAME else HOST
        return RedisNode(name, kind, masterName, host, Ports.next(), dir)
    }

    private fun checkOwned(node: RedisNode) {
        require(node in nodes || node in extras) { "$node is not a node of this topology" }
        check(!closed.get()) { "the topology is closed" }
    }

    private fun boot() {
        val began = System.nanoTime()
        val deadline = { Duration.ofNanos(config.startTimeout.toNanos() - (System.nanoTime() - began)) }
        val masters = groups.mapValues { it.value.first() }
        launcher.launch(masters.values.toList(), deadline) { configs.writeData(it, null) }
        launcher.launch(
            groups.values.flatMap { it.drop(1) },
            deadline,
        ) { configs.writeData(it, masters.getValue(it.masterName!!)) }
        launcher.launch(sentinels, deadline) { configs.writeSentinel(it, masters) }
        masterNames.forEach { awaitSettled(it, null, deadline(), startup = true) }
        startupTime = Duration.ofNanos(System.nanoTime() - began)
    }

    public companion object {
        private const val HOST = "127.0.0.1"
        private const val HOST_NAME = "localhost"

        /**
         * Starts the topology [config] describes and returns once every master group has settled: each sentinel
         * knows the others and every replica, and each replica's link to its master is up.
         *
         * @throws TopologyException if a node does not start (the message ends with its log) or the groups do not
         *   settle within [TopologyConfig.startTimeout]; whatever was started is stopped again.
         */
        @JvmStatic
        @JvmOverloads
        public fun start(config: TopologyConfig = TopologyConfig()): Topology {
            ProcessRegistry.reapOrphans()
            val binary = config.binary ?: RedisBinary.locate()
            if (config.tls != null) {
                binary.tlsUnsupportedReason?.let { throw TopologyException("cannot start a TLS topology: $it") }
            }
            log.info { "starting $config with $binary" }
            val topology = Topology(config, binary, Files.createTempDirectory("picket-topology-"))
            try {
                topology.boot()
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Throwable,
            ) {
                topology.close()
                throw e
            }
            log.info { "started ${topology.nodes.size} nodes in ${topology.startupTime.toMillis()} ms" }
            return topology
        }
    }
}
