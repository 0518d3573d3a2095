package picket.bench

import kotlinx.coroutines.delay
import org.redisson.Redisson
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.mq.HandlerResult
import picket.mq.MessageQueues
import picket.mq.WorkerOptions
import picket.mq.queues
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration

/** One measurement: [messages] of [client] enqueued, handled and acknowledged in [seconds]. */
class MqRound(
    val round: Int,
    val client: String,
    val messages: Int,
    val seconds: Double,
    /** CPU time per message, in microseconds: the master's `redis-server` (`INFO cpu`) and the client's own JVM. */
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
    /** How long the master was counted without the worker, and with it (see [MqBench.workerWindow]). */
    val idleWindow: Duration,
    val idleWorkerWindow: Duration,
    /** How long each client ran uncounted first. */
    val warmup: Duration,
    /** The clients shared the benchmark's JVM (`--one-jvm`) instead of running in JVMs of their own. */
    val oneJvm: Boolean = false,
)

/**
 * End to end (enqueue → handled → acknowledged), one producer and one consumer of [Settings.mqHandlers] handlers,
 * side by side on the same master: Picket's queue (a worker of that concurrency), a plain LPUSH / BLMOVE / LREM loop
 * on Lettuce (the reference: one connection per handler for the blocking read), and Redisson's blocking queue in the
 * same pattern (`pollLastAndOfferFirstTo` into a processing list, then `remove`). The producer keeps up to
 * [Settings.mqHandlers] enqueues in flight. Each client runs in a JVM of its own ([ClientJvm], [BenchChild]): in one
 * JVM, a client's figures depended on which others had run before it. Then the command rate of an idle Picket
 * worker, by `INFO commandstats`.
 */
class MqBench(
    context: BenchContext,
) : TopologyBench(context) {
    private val handlers = settings.mqHandlers

    suspend fun run(): MqResult {
        events.awaitQuiet(settings.quiet, settings.maxQuiet)
        val master = blocking { topology.awaitMaster(masterName) }
        val picket = Picket()
        val inspect = Inspect()
        val clients = mutableListOf<DrivenClient>()
        try {
            picket.setSentinelGroups("bench" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
            val queues = picket.queues(ConnSpec(sentinelGroup = "bench", masterName = masterName))
            SideBySide(topology, settings, progress).start(
                "mq",
                listOf("picket" to PICKET, "plain" to PLAIN, "redisson" to REDISSON),
                clients,
                master,
                "$handlers",
                settings.mqWarmup,
                settings.mqMessages / WARMUP_SHARE,
            )
            val rounds = mutableListOf<MqRound>()
            for (round in 1..settings.mqRounds) {
                val order = if (round % 2 == 1) clients else clients.reversed()
                order.forEach { client -> rounds += measure(round, client, inspect, master) }
            }
            clients.forEach { it.close() }
            val workerOptions = WorkerOptions(concurrency = handlers)
            val workerWindow = workerWindow(workerOptions)
            val (baseline, withWorker, calls) = idle(queues, inspect, master, workerOptions, workerWindow)
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
                workerWindow,
                settings.mqWarmup,
                settings.oneJvm,
            )
        } finally {
            clients.forEach { it.close() }
            picket.close()
            inspect.close()
        }
    }

    /** One counted run of [client]: its rate, and the CPU per message of the master and of the client's JVM. */
    private suspend fun measure(
        round: Int,
        client: DrivenClient,
        inspect: Inspect,
        master: RedisNode,
    ): MqRound {
        val before = blocking { inspect.commandCalls(master) }
        val serverBefore = blocking { inspect.serverCpuSeconds(master) }
        val (nanos, cpuNanos) =
            blocking { client.request("run r$round-${client.name.hashCode()} ${settings.mqMessages}", Duration.ZERO) }
                .map { it.toLong() }
        val seconds = nanos / NANOS_PER_SECOND
        val serverMicros =
            (blocking { inspect.serverCpuSeconds(master) } - serverBefore) * MICROS_PER_SECOND / settings.mqMessages
        val clientMicros = cpuNanos / NANOS_PER_MICRO / settings.mqMessages
        val perMessage = Inspect.perOperation(before, blocking { inspect.commandCalls(master) }, settings.mqMessages)
        progress(
            "mq round $round: ${client.name} ${(settings.mqMessages / seconds).toLong()} messages/s; " +
                "CPU per message: server ${fmt(serverMicros)} µs, client ${fmt(clientMicros)} µs; " +
                "commands per message on the master (scripts' own included): $perMessage",
        )
        return MqRound(round, client.name, settings.mqMessages, seconds, serverMicros, clientMicros)
    }

    /**
     * How long the idle worker is counted: [Settings.mqIdleWindow], and at least two of the worker's longest idle
     * pauses (its backoff's cap, jitter included), so the window holds its polls rather than sampling them: with a
     * shorter one (the smoke run's 1 s against pauses of up to 2.4 s) a window could hold no poll at all.
     */
    private fun workerWindow(options: WorkerOptions): Duration {
        val longestPause = options.idleBackoffMax.toMillis() * (1 + options.jitter)
        return maxOf(settings.mqIdleWindow, Duration.ofMillis((2 * longestPause).toLong()))
    }

    /** Commands per second on [master] without and with one idle worker, and the worker window's calls. */
    private suspend fun idle(
        queues: MessageQueues<String>,
        inspect: Inspect,
        master: RedisNode,
        options: WorkerOptions,
        workerWindow: Duration,
    ): Triple<Double, Double, Map<String, Long>> {
        val (baseline, _) = commands(inspect, master, settings.mqIdleWindow.toMillis())
        val worker = queues.worker("bench:idle", options) { HandlerResult.success() }
        delay(IDLE_SETTLE_MS)
        val (busy, calls) = commands(inspect, master, workerWindow.toMillis())
        worker.stop()
        progress("mq idle: ${fmt(baseline)} commands/s without a worker, ${fmt(busy)} with one idle worker: $calls")
        return Triple(baseline, busy, calls)
    }

    private suspend fun commands(
        inspect: Inspect,
        master: RedisNode,
        window: Long,
    ): Pair<Double, Map<String, Long>> {
        val before = blocking { inspect.commandCalls(master) }
        delay(window)
        val after = blocking { inspect.commandCalls(master) }
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
    }
}
