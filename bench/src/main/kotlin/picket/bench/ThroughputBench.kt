package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.codec.StringCodec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.future.await
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.io.File
import java.util.concurrent.TimeUnit

enum class Op { SET, GET }

/** One measured round of one client and operation. */
class ThroughputRound(
    val round: Int,
    val op: Op,
    val client: String,
    val opsPerSecond: Double,
)

/** One redis-benchmark test on the same node. */
class RedisBenchmarkResult(
    val test: String,
    val pipeline: Int,
    val requests: Int,
    val opsPerSecond: Double,
)

class ThroughputResult(
    val node: String,
    val callers: Int,
    val rounds: List<ThroughputRound>,
    /** Null if redis-benchmark is not on the PATH. */
    val redisBenchmark: List<RedisBenchmarkResult>?,
)

/**
 * `withConn` GET and SET with concurrent coroutine callers against plain Lettuce on one connection (the async API
 * with await, the same number of callers) on the same master; rounds alternate which client goes first.
 */
class ThroughputBench(
    context: BenchContext,
) : TopologyBench(context) {
    private class Client(
        val name: String,
        val set: suspend (key: String) -> Unit,
        val get: suspend (key: String) -> Unit,
    )

    suspend fun run(): ThroughputResult {
        val master = blocking { topology.awaitMaster(masterName) }
        val picket = Picket()
        val bare = Picket()
        val lettuceClient = RedisClient.create()
        try {
            val group = SentinelGroup(topology.sentinels.map { Address(it.host, it.port) })
            picket.setSentinelGroups("bench" to group)
            bare.setSentinelGroups("bench" to group.parking(false).lossDetection(false))
            val spec = ConnSpec(sentinelGroup = "bench", masterName = masterName)
            val connection = lettuceClient.connectTo(master)
            val lettuce = connection.async()
            val clients =
                listOf(
                    Client(
                        Report.PICKET_TP,
                        { key -> picket.withConn(spec) { set(key, VALUE) } },
                        { key -> picket.withConn(spec) { get(key) } },
                    ),
                    Client(
                        Report.PICKET_BARE_TP,
                        { key -> bare.withConn(spec) { set(key, VALUE) } },
                        { key -> bare.withConn(spec) { get(key) } },
                    ),
                    Client(
                        Report.LETTUCE_TP,
                        { key -> lettuce.set(key, VALUE).await() },
                        { key -> lettuce.get(key).await() },
                    ),
                )
            clients.forEach { client ->
                repeat(settings.callers) { client.set("tp:$it") }
                measure(client, Op.SET, settings.warmup.toNanos(), 0)
                measure(client, Op.GET, settings.warmup.toNanos(), 0)
            }
            val rounds = (1..settings.throughputRounds).flatMap { round(it, clients) }
            connection.close()
            picket.close()
            bare.close()
            return ThroughputResult(master.address, settings.callers, rounds, redisBenchmark(master))
        } finally {
            picket.close()
            bare.close()
            lettuceClient.shutdown()
        }
    }

    /** One round: SET, then GET, each client in turn; odd rounds in the given order, even rounds reversed. */
    private suspend fun round(
        round: Int,
        clients: List<Client>,
    ): List<ThroughputRound> =
        Op.entries.flatMap { op ->
            (if (round % 2 == 1) clients else clients.reversed()).map { client ->
                val opsPerSecond = measure(client, op, settings.roundWarmup.toNanos(), settings.roundDuration.toNanos())
                progress("throughput round $round: ${client.name} $op ${opsPerSecond.toLong()} ops/s")
                ThroughputRound(round, op, client.name, opsPerSecond)
            }
        }

    /**
     * Runs [Settings.callers] coroutines, each issuing [op] one after the other on its own key, for [warmup] and
     * then [duration] nanoseconds; returns the operations completed during [duration] per second.
     */
    private suspend fun measure(
        client: Client,
        op: Op,
        warmup: Long,
        duration: Long,
    ): Double =
        coroutineScope {
            val start = System.nanoTime()
            val from = start + warmup
            val until = from + duration
            val counts =
                (0 until settings.callers).map { caller ->
                    async(Dispatchers.Default) {
                        val key = "tp:$caller"
                        var count = 0L
                        while (true) {
                            if (op == Op.SET) client.set(key) else client.get(key)
                            val now = System.nanoTime()
                            if (now >= until) break
                            if (now >= from) count++
                        }
                        count
                    }
                }
            val total = counts.awaitAll().sum()
            if (duration == 0L) 0.0 else total * NANOS_PER_SECOND / duration
        }

    /** redis-benchmark on the same node, 50 clients, unpipelined and with 16-deep pipelines; null if absent. */
    private fun redisBenchmark(master: RedisNode): List<RedisBenchmarkResult>? {
        val binary = findOnPath("redis-benchmark") ?: return null
        return listOf(1, PIPELINE).flatMap { pipeline ->
            val requests = settings.redisBenchmarkRequests * if (pipeline == 1) 1 else PIPELINE_REQUEST_FACTOR
            val command =
                listOf(
                    binary.path,
                    "-h",
                    master.host,
                    "-p",
                    "${master.port}",
                    "-c",
                    "${settings.callers}",
                    "-n",
                    "$requests",
                    "-P",
                    "$pipeline",
                    "-t",
                    "set,get",
                    "--csv",
                )
            redisBenchmarkCsv(command)
                .map { (test, opsPerSecond) -> RedisBenchmarkResult(test, pipeline, requests, opsPerSecond) }
                .also { results ->
                    results.forEach {
                        progress(
                            "redis-benchmark -P $pipeline ${it.test}: %.0f ops/s".format(it.opsPerSecond),
                        )
                    }
                }
        }
    }

    private companion object {
        const val VALUE = "0123456789abcdef"
        const val PIPELINE = 16
        const val PIPELINE_REQUEST_FACTOR = 10
        const val NANOS_PER_SECOND = 1e9
    }
}

/**
 * Runs redis-benchmark with [command] (which ends in `--csv`) and returns each test's name and requests per second;
 * fails with its output if it fails. Shared by the throughput and pipeline benchmarks, so both read it alike.
 */
internal fun redisBenchmarkCsv(command: List<String>): List<Pair<String, Double>> {
    val process = ProcessBuilder(command).redirectErrorStream(true).start()
    val output = process.inputStream.bufferedReader().readText()
    check(process.waitFor(REDIS_BENCHMARK_TIMEOUT_S, TimeUnit.SECONDS) && process.exitValue() == 0) {
        "redis-benchmark failed: $output"
    }
    // The header line ("test","rps",...) of newer versions has no number in its second cell.
    return output.lines().mapNotNull { line ->
        val cells = line.split(",").map { it.trim('"') }
        cells.getOrNull(1)?.toDoubleOrNull()?.let { cells[0] to it }
    }
}

private const val REDIS_BENCHMARK_TIMEOUT_S = 120L

/** A plain Lettuce connection to [node], the peer the benchmarks compare Picket with. */
internal fun RedisClient.connectTo(node: RedisNode): StatefulRedisConnection<String, String> =
    connect(
        StringCodec.UTF8,
        RedisURI
            .builder()
            .withHost(node.host)
            .withPort(node.port)
            .build(),
    )

internal fun findOnPath(name: String): File? =
    System
        .getenv("PATH")
        .orEmpty()
        .split(File.pathSeparator)
        .filter { it.isNotBlank() }
        .map { File(it, name) }
        .firstOrNull { it.isFile && it.canExecute() }
