package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisFuture
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withContext
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.io.File

/**
 * One measurement of the pipeline benchmark: [commands] SETs written [depth] at a time by [client] in [round].
 * Kept one by one, not only as medians, so that the report can show each round's ratio and the spread.
 */
class PipelineRound(
    val round: Int,
    val depth: Int,
    val client: String,
    val commands: Int,
    val opsPerSecond: Double,
)

/** Everything the pipeline benchmark measured, for [PipelineReport] and the smoke spec. */
class PipelineResult(
    /** The master every client wrote to. */
    val node: String,
    /** SETs per measurement. */
    val commands: Int,
    /** The depths measured, in order; redis-benchmark runs at [PipelineBench.REDIS_BENCHMARK_DEPTH] only. */
    val depths: List<Int>,
    val rounds: List<PipelineRound>,
    /** False if redis-benchmark is not on the PATH: then no round has its figure. */
    val redisBenchmark: Boolean,
)

/**
 * `Picket.pipeline` against plain Lettuce with auto-flush off on one connection to the same master. Both write the
 * same SETs in the same windows (`depth` commands written, one flush, their replies awaited, then the next window)
 * and both keep every reply, as `pipeline` returns them: the difference is Picket's own cost (the dedicated
 * connection's lease, the parking check before each window, the reply list). `redis-benchmark -c 1 -P 16` on the
 * same node gives the scale of a client without a JVM. Rounds alternate which client goes first, as in
 * [ThroughputBench], so that neither always runs on a warmer or a busier machine.
 */
class PipelineBench(
    context: BenchContext,
) : TopologyBench(context) {
    private val commands = settings.pipelineCommands

    /** One measured client: [measure] sends [commands] SETs at a depth and returns SETs per second. */
    private class Client(
        val name: String,
        /** The depths it runs at: redis-benchmark only at [REDIS_BENCHMARK_DEPTH], the comparison it is for. */
        val depths: List<Int>,
        val measure: suspend (depth: Int) -> Double,
    )

    /** A warm-up pass (each client and depth once, uncounted), then [Settings.pipelineRounds] rounds. */
    suspend fun run(): PipelineResult {
        DEPTHS.forEach { require(commands % it == 0) { "pipeline commands ($commands) not a multiple of $it" } }
        val master = blocking { topology.awaitMaster(masterName) }
        val picket = Picket()
        val lettuceClient = RedisClient.create()
        try {
            picket.setSentinelGroups("bench" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
            val spec = ConnSpec(sentinelGroup = "bench", masterName = masterName)
            val connection = lettuceClient.connectTo(master)
            // This connection only writes the benchmark's windows: every flush is the loop's own.
            connection.setAutoFlushCommands(false)
            val binary = findOnPath("redis-benchmark")
            val clients =
                listOfNotNull(
                    Client(Report.PICKET_PIPELINE, DEPTHS) { depth ->
                        timed(Report.PICKET_PIPELINE) {
                            picket.pipeline(spec, window = depth) { repeat(commands) { add { it.set(KEY, VALUE) } } }
                        }
                    },
                    Client(Report.LETTUCE_PIPELINE, DEPTHS) { depth ->
                        timed(Report.LETTUCE_PIPELINE) { lettuce(connection, depth) }
                    },
                    binary?.let { path ->
                        Client(Report.REDIS_BENCHMARK_PIPELINE, listOf(REDIS_BENCHMARK_DEPTH)) { depth ->
                            blocking { redisBenchmark(path, master, depth) }
                        }
                    },
                )
            clients.forEach { client -> client.depths.forEach { client.measure(it) } }
            progress("pipeline warm-up done: ${clients.joinToString { it.name }}, $commands SETs each")
            val rounds = (1..settings.pipelineRounds).flatMap { round(it, clients) }
            connection.close()
            return PipelineResult(master.address, commands, DEPTHS, rounds, binary != null)
        } finally {
            picket.close()
            lettuceClient.shutdown()
        }
    }

    /** One round: each depth in turn, each client at it; odd rounds in the given order, even rounds reversed. */
    private suspend fun round(
        round: Int,
        clients: List<Client>,
    ): List<PipelineRound> =
        DEPTHS.flatMap { depth ->
            val here = clients.filter { depth in it.depths }
            (if (round % 2 == 1) here else here.reversed()).map { client ->
                val opsPerSecond = client.measure(depth)
                progress("pipeline round $round: ${client.name} depth $depth ${opsPerSecond.toLong()} ops/s")
                PipelineRound(round, depth, client.name, commands, opsPerSecond)
            }
        }

    /**
     * Runs [pipeline] on [Dispatchers.Default] (both JVM clients alike, so that their awaits resume the same way)
     * and returns SETs per second. Every reply must be `OK`: a figure from failed commands would not be a throughput.
     */
    private suspend fun timed(
        client: String,
        pipeline: suspend () -> List<Any?>,
    ): Double =
        withContext(Dispatchers.Default) {
            val start = System.nanoTime()
            val replies = pipeline()
            val elapsed = System.nanoTime() - start
            check(replies.size == commands && replies.all { it == "OK" }) {
                "$client: ${replies.size} replies of $commands, first not OK: ${replies.firstOrNull { it != "OK" }}"
            }
            commands * NANOS_PER_SECOND / elapsed
        }

    /**
     * What `Picket.pipeline` does, by hand on [connection] (auto-flush off): [depth] SETs queued, one flush, their
     * replies awaited in order and kept, then the next window.
     */
    private suspend fun lettuce(
        connection: StatefulRedisConnection<String, String>,
        depth: Int,
    ): List<Any?> {
        val async = connection.async()
        val replies = ArrayList<Any?>()
        val pending = ArrayList<RedisFuture<String>>(depth)
        repeat(commands / depth) {
            repeat(depth) { pending += async.set(KEY, VALUE) }
            connection.flushCommands()
            pending.forEach { replies += it.await() }
            pending.clear()
        }
        return replies
    }

    /**
     * redis-benchmark's SET on the same node with one connection (`-c 1`), [depth]-deep pipelines and a value as long
     * as ours: the same work as one Picket pipeline, by a client in C.
     */
    private fun redisBenchmark(
        binary: File,
        master: RedisNode,
        depth: Int,
    ): Double {
        val command =
            listOf(
                binary.path,
                "-h",
                master.host,
                "-p",
                "${master.port}",
                "-c",
                "1",
                "-n",
                "$commands",
                "-P",
                "$depth",
                "-d",
                "${VALUE.length}",
                "-t",
                "set",
                "--csv",
            )
        return redisBenchmarkCsv(command).single { it.first == "SET" }.second
    }

    companion object {
        /** The value of every SET: 16 bytes, as in the throughput benchmark. */
        const val VALUE = "0123456789abcdef"

        /** One key for every client: the server does the same work for each, only the clients differ. */
        const val KEY = "pipeline:key"

        /** Short windows, where the round trips dominate, and the default window, where encoding does. */
        val DEPTHS = listOf(16, 1_000)

        /** redis-benchmark runs at this depth only (`-P 16`), against Picket's figure at the same depth. */
        const val REDIS_BENCHMARK_DEPTH = 16

        private const val NANOS_PER_SECOND = 1e9
    }
}
