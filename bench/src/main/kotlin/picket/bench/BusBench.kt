package picket.bench

import org.redisson.Redisson
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration

/** One measurement: [calls] round trips of [client] in [seconds], their latencies, and the CPU they cost. */
class BusRound(
    val round: Int,
    val client: String,
    val calls: Int,
    val seconds: Double,
    val p50Ms: Double,
    val p99Ms: Double,
    /** CPU time per call, in microseconds: the master's `redis-server` (`INFO cpu`) and the client's JVM. */
    val serverMicros: Double,
    val clientMicros: Double,
    /** Commands per call on the master (`INFO commandstats`, scripts' inner commands included), the busiest first. */
    val commands: String,
) {
    val perSecond: Double get() = calls / seconds
}

/** Everything the bus benchmark measured. */
class BusResult(
    val node: String,
    val redisson: String,
    val calls: Int,
    val concurrency: Int,
    val workers: Int,
    val rounds: List<BusRound>,
    /** The clients shared the benchmark's JVM (`--one-jvm`) instead of running in JVMs of their own. */
    val oneJvm: Boolean = false,
)

/**
 * Round-trip calls (request → served by a worker → reply back to the caller), one caller keeping
 * [Settings.busConcurrency] calls in flight and [Settings.busWorkers] workers, side by side on the same master:
 * Picket's bus (a service bus and a caller bus, each on its own Picket, as two processes would be), a plain
 * request/reply loop on Lettuce (the reference: the caller LPUSHes a request and BLPOPs a reply key of its own, one
 * connection per call in flight; each worker BRPOPs requests and LPUSHes replies), and Redisson's `RRemoteService`
 * (its default options: an acknowledgement expected within 1 s, the result within 30 s). Each client runs in a JVM of
 * its own ([ClientJvm], [BenchChild]), as the queue benchmark's do.
 */
class BusBench(
    context: BenchContext,
) : TopologyBench(context) {
    private val concurrency = settings.busConcurrency
    private val workers = settings.busWorkers

    suspend fun run(): BusResult {
        events.awaitQuiet(settings.quiet, settings.maxQuiet)
        val master = blocking { topology.awaitMaster(masterName) }
        val inspect = Inspect()
        val clients = mutableListOf<DrivenClient>()
        try {
            SideBySide(topology, settings, progress).start(
                "bus",
                listOf("picket" to PICKET, "plain" to PLAIN, "redisson" to REDISSON),
                clients,
                master,
                "$concurrency,$workers",
                settings.busWarmup,
                settings.busCalls / WARMUP_SHARE,
            )
            val rounds = mutableListOf<BusRound>()
            for (round in 1..settings.busRounds) {
                val order = if (round % 2 == 1) clients else clients.reversed()
                order.forEach { client -> rounds += measure(round, client, inspect, master) }
            }
            return BusResult(
                master.address,
                Redisson::class.java.`package`?.implementationVersion ?: "?",
                settings.busCalls,
                concurrency,
                workers,
                rounds,
                settings.oneJvm,
            )
        } finally {
            clients.forEach { it.close() }
            inspect.close()
        }
    }

    /** One counted run of [client]: its rate and latencies, and the CPU per call of the master and of its JVM. */
    private suspend fun measure(
        round: Int,
        client: DrivenClient,
        inspect: Inspect,
        master: RedisNode,
    ): BusRound {
        val calls = settings.busCalls
        val before = blocking { inspect.commandCalls(master) }
        val serverBefore = blocking { inspect.serverCpuSeconds(master) }
        // The pass's nanoseconds, the client JVM's CPU nanoseconds, then its p50 and p99 in ms.
        val figures = blocking { client.request("run r$round-${client.name.hashCode()} $calls", Duration.ZERO) }
        val seconds = figures[0].toLong() / NANOS_PER_SECOND
        val clientMicros = figures[1].toLong() / NANOS_PER_MICRO / calls
        val serverMicros =
            (blocking { inspect.serverCpuSeconds(master) } - serverBefore) * MICROS_PER_SECOND / calls
        val perCall = Inspect.perOperation(before, blocking { inspect.commandCalls(master) }, calls)
        val result =
            BusRound(
                round,
                client.name,
                calls,
                seconds,
                figures[2].toDouble(),
                figures[P99_AT].toDouble(),
                serverMicros,
                clientMicros,
                perCall,
            )
        progress(
            "bus round $round: ${client.name} ${result.perSecond.toLong()} calls/s, p50 ${fmt(result.p50Ms)} ms, " +
                "p99 ${fmt(result.p99Ms)} ms; CPU per call: server ${fmt(serverMicros)} µs, client " +
                "${fmt(clientMicros)} µs; commands per call on the master (scripts' own included): $perCall",
        )
        return result
    }

    companion object {
        const val PICKET = "Picket bus"
        const val PLAIN = "plain LPUSH/BRPOP + BLPOP loop"
        const val REDISSON = "Redisson RRemoteService"
        private const val WARMUP_SHARE = 4
        private const val NANOS_PER_SECOND = 1e9
        private const val NANOS_PER_MICRO = 1e3
        private const val MICROS_PER_SECOND = 1e6
        private const val P99_AT = 3
    }
}
