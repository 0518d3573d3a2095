package picket.bench

import io.lettuce.core.LMoveArgs
import io.lettuce.core.RedisClient
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Semaphore
import org.redisson.Redisson
import org.redisson.api.RedissonClient
import org.redisson.config.Config
import picket.core.Address
import picket.core.ConnSpec
import picket.mq.HandlerResult
import picket.mq.MessageQueues
import picket.mq.WorkerOptions
import picket.mq.queues
import picket.sentinel.Picket
import picket.sentinel.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.lang.management.ManagementFactory
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong

/** One measurement: [messages] of [client] enqueued, handled and acknowledged in [seconds]. */
class MqRound(
    val round: Int,
    val client: String,
    val messages: Int,
    val seconds: Double,
    /** CPU time per message, in microseconds: the master's `redis-server` (`INFO cpu`) and this benchmark's JVM. */
    val serverMicros: Double,
    val clientMicros: Double,
) {
    val perSecond: Double get() = messages / seconds
}

/** Everything the queue benchmark measured. */
class MqResult(
    val node: String,
    val redisson: String,
    val messages: Int,
    val handlers: Int,
    val rounds: List<MqRound>,
    /** Commands per second on the master: the sentinels alone, and with one idle Picket worker of [handlers]. */
    val idleBaseline: Double,
    val idleWithWorker: Double,
    val idleWorkerCalls: Map<String, Long>,
    val idleWindow: Duration,
    /** How long each client ran uncounted first. */
    val warmup: Duration,
)

/**
 * End to end (enqueue → handled → acknowledged), one producer and one consumer of [Settings.mqHandlers] handlers,
 * side by side on the same master: Picket's queue (a worker of that concurrency), a plain LPUSH / BLMOVE / LREM loop
 * on Lettuce (the reference: one connection per handler for the blocking read), and Redisson's blocking queue in the
 * same pattern (`pollLastAndOfferFirstTo` into a processing list, then `remove`). The producer keeps up to
 * [Settings.mqHandlers] enqueues in flight. Then the command rate of an idle Picket worker, by `INFO commandstats`.
 */
class MqBench(
    private val topology: Topology,
    private val events: SentinelEvents,
    private val settings: Settings,
    private val progress: (String) -> Unit,
) {
    private val masterName = topology.masterNames.single()
    private val handlers = settings.mqHandlers

    private class Client(
        val name: String,
        val run: suspend (queue: String, messages: Int) -> Unit,
    )

    suspend fun run(): MqResult {
        events.awaitQuiet(settings.quiet, settings.maxQuiet)
        val master = blocking { topology.awaitMaster(masterName) }
        val picket = Picket()
        val lettuce = Inspect.client()
        var redisson: RedissonClient? = null
        try {
            picket.setSentinelGroups("bench" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
            val queues = picket.queues(ConnSpec(sentinelGroup = "bench", masterName = masterName))
            val peer = blocking { Redisson.create(config(master)) }.also { redisson = it }
            val inspect = Inspect(lettuce)
            val clients = listOf(picketClient(queues), plainClient(lettuce, inspect, master), redissonClient(peer))
            clients.forEach { warmUp(it) }
            val rounds = mutableListOf<MqRound>()
            for (round in 1..settings.mqRounds) {
                val order = if (round % 2 == 1) clients else clients.reversed()
                order.forEach { client -> rounds += measure(round, client, inspect, master) }
            }
            val (baseline, withWorker, calls) = idle(queues, inspect, master)
            return MqResult(
                master.address,
                Redisson::class.java.`package`?.implementationVersion ?: "?",
                settings.mqMessages,
                handlers,
                rounds,
                baseline,
                withWorker,
                calls,
                settings.mqIdleWindow,
                settings.mqWarmup,
            )
        } finally {
            redisson?.shutdown()
            picket.close()
            lettuce.shutdown()
        }
    }

    /**
     * Runs [client] uncounted for [Settings.mqWarmup]: each client warms up for the same time, not the same count,
     * as the JIT needs time on every path (a deeper one, like Picket's leases and batching, more passes than a
     * three-command loop).
     */
    private suspend fun warmUp(client: Client) {
        val until = System.nanoTime() + settings.mqWarmup.toNanos()
        var pass = 0
        while (pass == 0 || System.nanoTime() < until) {
            client.run("warmup-${pass++}-${client.name.hashCode()}", settings.mqMessages / WARMUP_SHARE)
        }
        progress("mq warm-up: ${client.name}, $pass passes of ${settings.mqMessages / WARMUP_SHARE} messages")
    }

    /** One counted run of [client]: its rate, and the CPU per message of the master and of this JVM. */
    private suspend fun measure(
        round: Int,
        client: Client,
        inspect: Inspect,
        master: RedisNode,
    ): MqRound {
        val before = blocking { calls(inspect, master) }
        val serverBefore = blocking { serverCpu(inspect, master) }
        val clientBefore = clientCpu()
        val start = System.nanoTime()
        client.run("r$round-${client.name.hashCode()}", settings.mqMessages)
        val seconds = (System.nanoTime() - start) / NANOS_PER_SECOND
        val serverMicros =
            (blocking { serverCpu(inspect, master) } - serverBefore) * MICROS_PER_SECOND / settings.mqMessages
        val clientMicros = (clientCpu() - clientBefore) / NANOS_PER_MICRO / settings.mqMessages
        val perMessage = perMessage(before, blocking { calls(inspect, master) }, settings.mqMessages)
        progress(
            "mq round $round: ${client.name} ${(settings.mqMessages / seconds).toLong()} messages/s; " +
                "CPU per message: server ${fmt(serverMicros)} µs, client ${fmt(clientMicros)} µs; " +
                "commands per message on the master (scripts' own included): $perMessage",
        )
        return MqRound(round, client.name, settings.mqMessages, seconds, serverMicros, clientMicros)
    }

    /** Commands per second on [master] without and with one idle worker, and the worker window's calls. */
    private suspend fun idle(
        queues: MessageQueues<String>,
        inspect: Inspect,
        master: RedisNode,
    ): Triple<Double, Double, Map<String, Long>> {
        val window = settings.mqIdleWindow.toMillis()
        val (baseline, _) = commands(inspect, master, window)
        val worker = queues.worker("bench:idle", WorkerOptions(concurrency = handlers)) { HandlerResult.success() }
        delay(IDLE_SETTLE_MS)
        val (busy, calls) = commands(inspect, master, window)
        worker.stop()
        progress("mq idle: ${fmt(baseline)} commands/s without a worker, ${fmt(busy)} with one idle worker: $calls")
        return Triple(baseline, busy, calls)
    }

    private suspend fun commands(
        inspect: Inspect,
        master: RedisNode,
        window: Long,
    ): Pair<Double, Map<String, Long>> {
        val before = blocking { calls(inspect, master) }
        delay(window)
        val after = blocking { calls(inspect, master) }
        // The two INFO calls are the measurement's own.
        val delta =
            after
                .mapValues { (k, v) ->
                    v - (before[k] ?: 0) -
                        if (k ==
                            "info"
                        ) {
                            1
                        } else {
                            0
                        }
                }.filterValues { it > 0 }
        return delta.values.sum() * MS_PER_SECOND / window to delta
    }

    /** Calls per message of each command between two `INFO commandstats`, the busiest first. */
    private fun perMessage(
        before: Map<String, Long>,
        after: Map<String, Long>,
        messages: Int,
    ): String =
        after
            .mapValues { (k, v) -> v - (before[k] ?: 0) }
            .filterValues { it * PER_MESSAGE_SHOWN >= messages }
            .entries
            .sortedByDescending { it.value }
            .joinToString { "${it.key} ${fmt(it.value.toDouble() / messages)}" }

    /** The master's CPU seconds so far, user and system (`INFO cpu`). */
    private fun serverCpu(
        inspect: Inspect,
        master: RedisNode,
    ): Double =
        inspect
            .on(master) { it.info("cpu") }
            .lines()
            .filter { it.startsWith("used_cpu_user:") || it.startsWith("used_cpu_sys:") }
            .sumOf { it.substringAfter(":").trim().toDouble() }

    /** This JVM's CPU nanoseconds so far, every thread (Picket's, Lettuce's, Redisson's, the benchmark's). */
    private fun clientCpu(): Long =
        (ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean).processCpuTime

    private fun calls(
        inspect: Inspect,
        master: RedisNode,
    ): Map<String, Long> =
        inspect
            .on(master) { it.info("commandstats") }
            .lines()
            .filter { it.startsWith("cmdstat_") }
            .associate {
                it.substringAfter("cmdstat_").substringBefore(":") to
                    it.substringAfter("calls=").substringBefore(",").toLong()
            }

    private fun picketClient(queues: MessageQueues<String>): Client =
        Client(PICKET) { queue, messages ->
            val handled = AtomicLong()
            val worker =
                queues.worker(queue, WorkerOptions(concurrency = handlers)) {
                    handled.incrementAndGet()
                    HandlerResult.success()
                }
            produce(messages) { i -> queues.enqueue(queue, "m-$i") }
            while (handled.get() < messages) delay(1)
            worker.stop()
            queues.clearQueueDeletingAllMessages(queue)
        }

    /** The reference: LPUSH; BLMOVE into a processing list on a connection per handler; LREM once handled. */
    private fun plainClient(
        client: RedisClient,
        inspect: Inspect,
        master: RedisNode,
    ): Client =
        Client(PLAIN) { queue, messages ->
            val handled = AtomicLong()
            val producer = client.connect(inspect.uri(master))
            val consumers = (1..handlers).map { client.connect(inspect.uri(master)) }
            try {
                coroutineScope {
                    val jobs =
                        consumers.map { connection ->
                            launch(Dispatchers.Default) {
                                val redis = connection.async()
                                while (isActive && handled.get() < messages) {
                                    val m =
                                        redis
                                            .blmove(queue, "$queue:processing", LMoveArgs.Builder.rightLeft(), 0.2)
                                            .await() ?: continue
                                    handled.incrementAndGet()
                                    redis.lrem("$queue:processing", -1, m).await()
                                }
                            }
                        }
                    produce(messages) { i -> producer.async().lpush(queue, "m-$i").await() }
                    jobs.forEach { it.join() }
                }
            } finally {
                producer.close()
                consumers.forEach { it.close() }
            }
        }

    /** Redisson's blocking queue in the same reliable pattern, a thread per handler (its blocking calls hold one). */
    private fun redissonClient(redisson: RedissonClient): Client =
        Client(REDISSON) { queue, messages ->
            val handled = AtomicLong()
            val q = redisson.getBlockingQueue<String>(queue)
            val processing = redisson.getList<String>("$queue:processing")
            coroutineScope {
                val jobs =
                    (1..handlers).map {
                        launch(Dispatchers.IO) {
                            while (handled.get() < messages) {
                                val m =
                                    q.pollLastAndOfferFirstTo("$queue:processing", POLL_MS, TimeUnit.MILLISECONDS)
                                        ?: continue
                                handled.incrementAndGet()
                                processing.remove(m)
                            }
                        }
                    }
                produce(messages) { i -> q.addAsync("m-$i").toCompletableFuture().await() }
                jobs.forEach { it.join() }
            }
        }

    /** One producer, up to [handlers] sends in flight. */
    private suspend fun produce(
        messages: Int,
        send: suspend (Int) -> Unit,
    ) = coroutineScope {
        val window = Semaphore(handlers)
        for (i in 0 until messages) {
            window.acquire()
            launch {
                try {
                    send(i)
                } finally {
                    window.release()
                }
            }
        }
    }

    companion object {
        const val PICKET = "Picket queue"
        const val PLAIN = "plain LPUSH/BLMOVE/LREM"
        const val REDISSON = "Redisson queue"
        private const val WARMUP_SHARE = 4
        private const val NANOS_PER_SECOND = 1e9
        private const val NANOS_PER_MICRO = 1e3
        private const val MICROS_PER_SECOND = 1e6
        private const val MS_PER_SECOND = 1000.0
        private const val IDLE_SETTLE_MS = 3_000L
        private const val POLL_MS = 200L

        /** Commands called less than once per this many messages are left out of the progress line. */
        private const val PER_MESSAGE_SHOWN = 100

        private fun config(master: RedisNode): Config =
            Config().apply { useSingleServer().setAddress("redis://${master.host}:${master.port}") }
    }
}
