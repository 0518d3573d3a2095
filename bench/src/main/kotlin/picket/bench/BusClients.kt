package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
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
import org.redisson.api.annotation.RRemoteAsync
import org.redisson.config.Config
import picket.bus.Bus
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import java.util.Locale
import java.util.concurrent.atomic.AtomicInteger

/** The method every bus client serves: it returns its argument. */
interface Echo {
    fun echo(value: String): String
}

/** [Echo] as Redisson's asynchronous remote interface. */
@RRemoteAsync(Echo::class)
interface EchoAsync {
    fun echo(value: String): RFuture<String>
}

/**
 * One client of the bus benchmark, usually in a JVM of its own ([BenchChild]): a pass makes `calls` round trips of
 * [call] (its workers serve them), `concurrency` at a time, and reports their p50 and p99 latency in milliseconds.
 */
internal class BusClient(
    override val name: String,
    private val concurrency: Int,
    private val call: suspend (id: String, value: String) -> String,
    private val closing: List<AutoCloseable>,
) : ChildClient {
    override suspend fun run(
        tag: String,
        operations: Int,
    ): List<String> {
        val next = AtomicInteger()
        val latencies = LongArray(operations)
        coroutineScope {
            repeat(concurrency) {
                launch(Dispatchers.Default) {
                    while (true) {
                        val i = next.getAndIncrement()
                        if (i >= operations) break
                        val value = "v-$i"
                        val start = System.nanoTime()
                        val answer = call("$tag-$i", value)
                        latencies[i] = System.nanoTime() - start
                        check(answer == value) { "$name answered '$answer' to '$value'" }
                    }
                }
            }
        }
        val ms = latencies.map { it / NANOS_PER_MS }
        return listOf(P50, P99).map { String.format(Locale.ROOT, "%.4f", percentile(ms, it) ?: 0.0) }
    }

    /** Closes what the client opened, the last opened first. */
    override fun close() = closing.asReversed().forEach { runCatching { it.close() } }

    private object EchoService : Echo {
        override fun echo(value: String): String = value
    }

    companion object {
        /** A service bus serving `bench_echo` with [workers] workers, and a caller bus on another Picket. */
        fun picket(
            sentinels: List<Address>,
            masterName: String,
            concurrency: Int,
            workers: Int,
        ): BusClient {
            val group = SentinelGroup(sentinels)
            val service = Picket().apply { setSentinelGroups("bench" to group) }
            val caller = Picket().apply { setSentinelGroups("bench" to group) }
            val spec = ConnSpec(sentinelGroup = "bench", masterName = masterName)
            val served = Bus(service, BUS_NAME, spec, prefix = "bench_")
            val server =
                runBlocking {
                    served.register(EchoService::echo)
                    served.serve(concurrency = workers)
                }
            val calling = Bus(caller, BUS_NAME, spec)
            // Closed in reverse: the caller, the server, the service; then the bus's keys go, then the Pickets.
            val closing =
                listOf(
                    service,
                    caller,
                    AutoCloseable { Bus(caller, BUS_NAME, spec).use { it.blocking().cleanup() } },
                    served,
                    server,
                    calling,
                )
            return BusClient(BusBench.PICKET, concurrency, { _, value ->
                calling.call(String::class.java, "bench_echo", listOf(value))
            }, closing)
        }

        /**
         * The reference: each worker loops BRPOP on the request list and LPUSHes the answer to the reply key the
         * request names; the caller LPUSHes `<id>|<value>` and BLPOPs `reply:<id>` on a connection of its own per call
         * in flight.
         */
        fun plain(
            master: Address,
            concurrency: Int,
            workers: Int,
        ): BusClient {
            val client = RedisClient.create()
            val uri = RedisURI.create(master.host, master.port)
            val callers = (1..concurrency).map { client.connect(uri) }
            val serving = (1..workers).map { client.connect(uri) }
            val requests = "plain:requests"
            val job = SupervisorJob()
            val scope = CoroutineScope(Dispatchers.Default + job)
            serving.forEach { connection ->
                scope.launch {
                    val redis = connection.async()
                    while (isActive) {
                        val popped =
                            runCatching { redis.brpop(PLAIN_BLOCK_S, requests).await() }.getOrNull() ?: continue
                        val id = popped.value.substringBefore('|')
                        redis.lpush("plain:reply:$id", popped.value.substringAfter('|')).await()
                    }
                }
            }
            val free = Channel<StatefulRedisConnection<String, String>>(concurrency)
            callers.forEach { free.trySend(it) }
            val closing =
                listOf(
                    AutoCloseable { client.shutdown() },
                    AutoCloseable { (callers + serving).forEach(StatefulRedisConnection<String, String>::close) },
                    AutoCloseable { runBlocking { job.cancelAndJoin() } },
                )
            return BusClient(BusBench.PLAIN, concurrency, { id, value ->
                val connection = free.receive()
                try {
                    val redis = connection.async()
                    redis.lpush(requests, "$id|$value").await()
                    redis.blpop(PLAIN_REPLY_TIMEOUT_S, "plain:reply:$id").await()?.value
                        ?: error("no reply to $id")
                } finally {
                    free.send(connection)
                }
            }, closing)
        }

        /** Redisson's remote service: [workers] workers of [Echo], called through [EchoAsync] with its defaults. */
        fun redisson(
            master: Address,
            concurrency: Int,
            workers: Int,
        ): BusClient {
            val config = Config().apply { useSingleServer().setAddress("redis://${master.host}:${master.port}") }
            val redisson = Redisson.create(config)
            val remote = redisson.getRemoteService("bench-rs")
            remote.register(Echo::class.java, EchoService, workers)
            val echo = remote.get(EchoAsync::class.java)
            return BusClient(BusBench.REDISSON, concurrency, { _, value ->
                echo.echo(value).toCompletableFuture().await()
            }, listOf(AutoCloseable { redisson.shutdown() }))
        }

        private const val BUS_NAME = "bench"
        private const val NANOS_PER_MS = 1e6
        private const val P50 = 0.5
        private const val P99 = 0.99
        private const val PLAIN_BLOCK_S = 0.2
        private const val PLAIN_REPLY_TIMEOUT_S = 30.0
    }
}
