package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.future.await
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.redisson.Redisson
import org.redisson.api.RFuture
import org.redisson.api.RedissonClient
import org.redisson.api.annotation.RRemoteAsync
import org.redisson.config.Config
import picket.bus.Bus
import picket.bus.BusServer
import picket.core.Address
import picket.core.ConnSpec
import picket.sentinel.Picket
import picket.sentinel.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.util.concurrent.atomic.AtomicInteger

/** One measurement: [calls] round trips of [client] in [seconds], their latencies, and the CPU they cost. */
class BusRound(
    val round: Int,
    val client: String,
    val calls: Int,
    val seconds: Double,
    val p50Ms: Double,
    val p99Ms: Double,
    /** CPU time per call, in microseconds: the master's `redis-server` (`INFO cpu`) and this benchmark's JVM. */
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
)

/** The method every client serves: it returns its argument. */
interface Echo {
    fun echo(value: String): String
}

/** [Echo] as Redisson's asynchronous remote interface. */
@RRemoteAsync(Echo::class)
interface EchoAsync {
    fun echo(value: String): RFuture<String>
}

/**
 * Round-trip calls (request → served by a worker → reply back to the caller), one caller keeping
 * [Settings.busConcurrency] calls in flight and [Settings.busWorkers] workers, side by side on the same master:
 * Picket's bus (a service bus and a caller bus, each on its own Picket, as two processes would be), a plain
 * request/reply loop on Lettuce (the reference: the caller LPUSHes a request and BLPOPs a reply key of its own, one
 * connection per call in flight; each worker BRPOPs requests and LPUSHes replies), and Redisson's `RRemoteService`
 * (its default options: an acknowledgement expected within 1 s, the result within 30 s).
 */
class BusBench(
    private val topology: Topology,
    private val events: SentinelEvents,
    private val settings: Settings,
    private val progress: (String) -> Unit,
) {
    private val masterName = topology.masterNames.single()
    private val concurrency = settings.busConcurrency
    private val workers = settings.busWorkers

    private class Client(
        val name: String,
        val call: suspend (id: String, value: String) -> String,
    )

    suspend fun run(): BusResult {
        events.awaitQuiet(settings.quiet, settings.maxQuiet)
        val master = blocking { topology.awaitMaster(masterName) }
        val service = Picket()
        val caller = Picket()
        val lettuce = Inspect.client()
        var redisson: RedissonClient? = null
        val closing = mutableListOf<AutoCloseable>()
        try {
            val group = SentinelGroup(topology.sentinels.map { Address(it.host, it.port) })
            service.setSentinelGroups("bench" to group)
            caller.setSentinelGroups("bench" to group)
            val spec = ConnSpec(sentinelGroup = "bench", masterName = masterName)
            val inspect = Inspect(lettuce)
            val peer = blocking { Redisson.create(config(master)) }.also { redisson = it }
            val clients =
                listOf(
                    picketClient(service, caller, spec, closing),
                    plainClient(lettuce, inspect, master, closing),
                    redissonClient(peer),
                )
            clients.forEach { warmUp(it) }
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
            )
        } finally {
            closing.asReversed().forEach { runCatching { it.close() } }
            redisson?.shutdown()
            caller.close()
            service.close()
            lettuce.shutdown()
        }
    }

    /** Runs [client] uncounted for [Settings.busWarmup]: each client warms up for the same time, not the same count. */
    private suspend fun warmUp(client: Client) {
        val until = System.nanoTime() + settings.busWarmup.toNanos()
        var pass = 0
        while (pass == 0 || System.nanoTime() < until) {
            drive(client, "w${pass++}", settings.busCalls / WARMUP_SHARE)
        }
        progress("bus warm-up: ${client.name}, $pass passes of ${settings.busCalls / WARMUP_SHARE} calls")
    }

    /** One counted run of [client]: its rate and latencies, and the CPU per call of the master and of this JVM. */
    private suspend fun measure(
        round: Int,
        client: Client,
        inspect: Inspect,
        master: RedisNode,
    ): BusRound {
        val calls = settings.busCalls
        val before = blocking { inspect.commandCalls(master) }
        val serverBefore = blocking { inspect.serverCpuSeconds(master) }
        val clientBefore = Inspect.processCpuNanos()
        val start = System.nanoTime()
        val latencies = drive(client, "r$round", calls)
        val seconds = (System.nanoTime() - start) / NANOS_PER_SECOND
        val clientMicros = (Inspect.processCpuNanos() - clientBefore) / NANOS_PER_MICRO / calls
        val serverMicros = (blocking { inspect.serverCpuSeconds(master) } - serverBefore) * MICROS_PER_SECOND / calls
        val perCall = Inspect.perOperation(before, blocking { inspect.commandCalls(master) }, calls)
        val ms = latencies.map { it / NANOS_PER_MS }
        val result =
            BusRound(
                round,
                client.name,
                calls,
                seconds,
                percentile(ms, P50) ?: 0.0,
                percentile(ms, P99) ?: 0.0,
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

    /** [calls] calls of [client], [concurrency] at a time; each call's latency in nanoseconds. */
    private suspend fun drive(
        client: Client,
        tag: String,
        calls: Int,
    ): List<Long> {
        val next = AtomicInteger()
        val latencies = LongArray(calls)
        coroutineScope {
            repeat(concurrency) {
                launch(Dispatchers.Default) {
                    while (true) {
                        val i = next.getAndIncrement()
                        if (i >= calls) break
                        val value = "v-$i"
                        val start = System.nanoTime()
                        val answer = client.call("$tag-$i", value)
                        latencies[i] = System.nanoTime() - start
                        check(answer == value) { "${client.name} answered '$answer' to '$value'" }
                    }
                }
            }
        }
        return latencies.toList()
    }

    /** A service bus serving `bench_echo` with [workers] workers, and a caller bus on another Picket. */
    private suspend fun picketClient(
        service: Picket,
        caller: Picket,
        spec: ConnSpec,
        closing: MutableList<AutoCloseable>,
    ): Client {
        val served = Bus(service, BUS_NAME, spec, prefix = "bench_")
        served.register(EchoService::echo)
        val server: BusServer = served.serve(concurrency = workers)
        val calling = Bus(caller, BUS_NAME, spec)
        // Closed in reverse: the caller, the server, the service; then the bus's keys go.
        closing += AutoCloseable { Bus(caller, BUS_NAME, spec).use { it.cleanupBlocking() } }
        closing += served
        closing += server
        closing += calling
        return Client(PICKET) { _, value -> calling.call(String::class.java, "bench_echo", listOf(value)) }
    }

    /**
     * The reference: each worker loops BRPOP on the request list and LPUSHes the answer to the reply key the request
     * names; the caller LPUSHes `<id>|<value>` and BLPOPs `reply:<id>` on a connection of its own per call in flight.
     */
    private suspend fun plainClient(
        client: RedisClient,
        inspect: Inspect,
        master: RedisNode,
        closing: MutableList<AutoCloseable>,
    ): Client {
        val callers = (1..concurrency).map { client.connect(inspect.uri(master)) }
        val serving = (1..workers).map { client.connect(inspect.uri(master)) }
        val requests = "plain:requests"
        val job = SupervisorJob()
        val scope = CoroutineScope(Dispatchers.Default + job)
        serving.forEach { connection ->
            scope.launch {
                val redis = connection.async()
                while (isActive) {
                    val popped = runCatching { redis.brpop(PLAIN_BLOCK_S, requests).await() }.getOrNull() ?: continue
                    val id = popped.value.substringBefore('|')
                    redis.lpush("plain:reply:$id", popped.value.substringAfter('|')).await()
                }
            }
        }
        closing += AutoCloseable { runBlocking { job.cancelAndJoin() } }
        closing += AutoCloseable { (callers + serving).forEach(StatefulRedisConnection<String, String>::close) }
        val free = Channel<StatefulRedisConnection<String, String>>(concurrency)
        callers.forEach { free.trySend(it) }
        return Client(PLAIN) { id, value ->
            val connection = free.receive()
            try {
                val redis = connection.async()
                redis.lpush(requests, "$id|$value").await()
                redis.blpop(PLAIN_REPLY_TIMEOUT_S, "plain:reply:$id").await()?.value
                    ?: error("no reply to $id")
            } finally {
                free.send(connection)
            }
        }
    }

    /** Redisson's remote service: [workers] workers of [Echo], called through [EchoAsync] with its default options. */
    private fun redissonClient(redisson: RedissonClient): Client {
        val remote = redisson.getRemoteService("bench-rs")
        remote.register(Echo::class.java, EchoService, workers)
        val echo = remote.get(EchoAsync::class.java)
        return Client(REDISSON) { _, value -> echo.echo(value).toCompletableFuture().await() }
    }

    private object EchoService : Echo {
        override fun echo(value: String): String = value
    }

    companion object {
        const val PICKET = "Picket bus"
        const val PLAIN = "plain LPUSH/BRPOP + BLPOP loop"
        const val REDISSON = "Redisson RRemoteService"
        private const val BUS_NAME = "bench"
        private const val WARMUP_SHARE = 4
        private const val NANOS_PER_SECOND = 1e9
        private const val NANOS_PER_MS = 1e6
        private const val NANOS_PER_MICRO = 1e3
        private const val MICROS_PER_SECOND = 1e6
        private const val P50 = 0.5
        private const val P99 = 0.99
        private const val PLAIN_BLOCK_S = 0.2
        private const val PLAIN_REPLY_TIMEOUT_S = 30.0

        private fun config(master: RedisNode): Config =
            Config().apply { useSingleServer().setAddress("redis://${master.host}:${master.port}") }
    }
}
