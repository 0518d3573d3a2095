package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.Picket
import picket.monitor.Monitor
import picket.monitor.MonitorOptions
import picket.monitor.MonitoredNode
import picket.monitor.NodeWatcher
import picket.testkit.Topology
import picket.testkit.TopologyConfig
import java.time.Duration

/** One measurement of [client] in [round]: INFO ages sampled every 100 ms, CPU and the servers' command rate. */
class MonitorRound(
    val round: Int,
    val client: String,
    /** Every sampled INFO age, in ms (each node, every 100 ms). */
    val agesMs: List<Double>,
    /** Process CPU time over wall time during the measurement: 1.0 is one core busy. */
    val cpuShare: Double,
    /** Commands per second the 50 servers processed together (the measurement's own reads left out). */
    val serverCommandsPerSecond: Double,
)

/** Everything the monitor benchmark measured, for [MonitorReport]. */
class MonitorResult(
    val nodes: Int,
    val interval: Duration,
    val duration: Duration,
    /** The JVM's CPU share with nothing polling, measured as long as one round. */
    val idleCpuShare: Double,
    /** The servers' command rate with nothing polling. */
    val idleServerCommandsPerSecond: Double,
    val rounds: List<MonitorRound>,
)

/**
 * Picket's [Monitor] on [Settings.monitorNodes] standalone `redis-server` nodes on loopback, each polled once every
 * [Settings.monitorInterval] (minimum and maximum interval both set to it), against a plain loop that sends `INFO
 * all` to each node over Lettuce at the same rate (one connection and one coroutine per node, nothing parsed). Per
 * measurement: the INFO age of every node sampled every 100 ms (p50, p99, max), the process's CPU share, and the
 * commands per second the servers processed (`total_commands_processed`). An idle measurement first, then
 * [Settings.monitorRounds] rounds alternating which client goes first, each measurement after a 3 s warm-up.
 */
class MonitorBench(
    private val settings: Settings,
    private val progress: (String) -> Unit,
) {
    private class Client(
        val name: String,
        val start: (List<Address>) -> AutoCloseable,
        /** Each node's INFO age now, in ms. */
        val ages: () -> List<Double>,
    )

    suspend fun run(): MonitorResult {
        val config =
            TopologyConfig(
                masterNames = (1..settings.monitorNodes).map { "node$it" },
                replicasPerMaster = 0,
                sentinels = 0,
            )
        val lettuce = RedisClient.create()
        try {
            return Topology.start(config).use { topology ->
                progress("monitor: ${topology.nodes.size} nodes started in ${topology.startupTime.toMillis()} ms")
                val addresses = topology.dataNodes.map { Address(it.host, it.port) }
                val counter = Counter(lettuce, addresses)
                try {
                    measureAll(addresses, counter, lettuce)
                } finally {
                    counter.close()
                }
            }
        } finally {
            lettuce.shutdown()
        }
    }

    private suspend fun measureAll(
        addresses: List<Address>,
        counter: Counter,
        lettuce: RedisClient,
    ): MonitorResult {
        val idle = measure(0, Client("idle", { AutoCloseable {} }, { emptyList() }), addresses, counter)
        progress(
            "monitor: idle JVM %.3f of a core, servers %.0f commands/s".format(
                idle.cpuShare,
                idle.serverCommandsPerSecond,
            ),
        )
        val picket = Picket()
        val monitorClient = picketClient(picket)
        val lettuceClient = lettuceClient(lettuce)
        val rounds = mutableListOf<MonitorRound>()
        try {
            for (round in 1..settings.monitorRounds) {
                val order =
                    if (round % 2 ==
                        1
                    ) {
                        listOf(monitorClient, lettuceClient)
                    } else {
                        listOf(lettuceClient, monitorClient)
                    }
                order.forEach { client ->
                    val result = measure(round, client, addresses, counter)
                    progress(
                        (
                            "monitor round $round: ${client.name} age p99 %.0f ms, CPU %.3f of a core, " +
                                "%.1f server commands/s"
                        ).format(percentile(result.agesMs, P99), result.cpuShare, result.serverCommandsPerSecond),
                    )
                    rounds += result
                }
            }
        } finally {
            picket.close()
        }
        return MonitorResult(
            nodes = addresses.size,
            interval = settings.monitorInterval,
            duration = settings.monitorDuration,
            idleCpuShare = idle.cpuShare,
            idleServerCommandsPerSecond = idle.serverCommandsPerSecond,
            rounds = rounds,
        )
    }

    /** Starts [client], warms up, then samples ages, CPU and server commands for [Settings.monitorDuration]. */
    private suspend fun measure(
        round: Int,
        client: Client,
        addresses: List<Address>,
        counter: Counter,
    ): MonitorRound {
        client.start(addresses).use {
            delay(WARMUP_MS)
            val ages = mutableListOf<Double>()
            val commandsBefore = counter.total()
            val cpuBefore = Inspect.processCpuNanos()
            val start = System.nanoTime()
            val end = start + settings.monitorDuration.toNanos()
            while (System.nanoTime() < end) {
                ages += client.ages()
                delay(SAMPLE_MS)
            }
            val wall = (System.nanoTime() - start).toDouble()
            val cpu = (Inspect.processCpuNanos() - cpuBefore) / wall
            // The counter's own INFO of each node, once per snapshot, is left out.
            val commands = counter.total() - commandsBefore - addresses.size
            return MonitorRound(round, client.name, ages, cpu, commands * NANOS_PER_SECOND / wall)
        }
    }

    private fun picketClient(picket: Picket): Client {
        var monitor: Monitor? = null
        return Client(
            Report.PICKET_MONITOR,
            start = { addresses ->
                val options =
                    MonitorOptions(
                        minInterval = settings.monitorInterval,
                        maxInterval = settings.monitorInterval,
                        maxConcurrentPolls = addresses.size,
                    )
                Monitor(picket, listOf(NodeWatcher.of(addresses.map { MonitoredNode(it) })), options).also {
                    monitor =
                        it
                }
            },
            ages = { monitor!!.states().mapNotNull { it.infoAge?.toNanos()?.div(NANOS_PER_MS) } },
        )
    }

    private fun lettuceClient(lettuce: RedisClient): Client {
        var last = LongArray(0)
        return Client(
            Report.LETTUCE_INFO_LOOP,
            start = { addresses ->
                last = LongArray(addresses.size)
                val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
                val connections = addresses.map { lettuce.connect(RedisURI.create(it.host, it.port)) }
                connections.forEachIndexed { i, connection ->
                    scope.launch {
                        while (isActive) {
                            connection.async().info("all").await()
                            last[i] = System.nanoTime()
                            delay(settings.monitorInterval.toMillis())
                        }
                    }
                }
                AutoCloseable {
                    scope.cancel()
                    connections.forEach(StatefulRedisConnection<String, String>::close)
                }
            },
            ages = {
                val now = System.nanoTime()
                last.filter { it != 0L }.map { (now - it) / NANOS_PER_MS }
            },
        )
    }

    /** Reads `total_commands_processed` of every node, on connections of its own. */
    private class Counter(
        client: RedisClient,
        addresses: List<Address>,
    ) : AutoCloseable {
        private val connections = addresses.map { client.connect(RedisURI.create(it.host, it.port)) }

        suspend fun total(): Long =
            connections.sumOf { connection ->
                connection
                    .async()
                    .info("stats")
                    .await()
                    .lineSequence()
                    .first { it.startsWith("total_commands_processed:") }
                    .substringAfter(':')
                    .trim()
                    .toLong()
            }

        override fun close() = connections.forEach { it.close() }
    }

    private companion object {
        const val WARMUP_MS = 3_000L
        const val SAMPLE_MS = 100L
        const val NANOS_PER_SECOND = 1e9
        const val NANOS_PER_MS = 1e6
        const val P99 = 0.99
    }
}
