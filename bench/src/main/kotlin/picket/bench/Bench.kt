package picket.bench

import kotlinx.coroutines.runBlocking
import picket.testkit.Topology
import picket.testkit.TopologyConfig
import java.io.File
import java.time.Duration
import java.time.OffsetDateTime
import java.time.format.DateTimeFormatter
import kotlin.system.exitProcess

/**
 * The benchmark command (docs/BENCHMARKS.md): starts one topology with the test kit's defaults (1 master, 2
 * replicas, 3 sentinels), runs the sentinel-connection count, the throughput rounds, the pipeline rounds, the
 * pub/sub rounds and failovers, the lock rounds (Picket against Redisson) and the failover runs on it, prints the
 * report and writes it to `--report-dir`, and stops every process it started.
 *
 * Arguments: `--runs=N` failover runs of each kind (default 5), `--report-dir=DIR` (default `target/benchmarks`);
 * for investigations: `--only=connections,throughput,java,pipeline,pubsub,lock,mq,bus,failover,monitor`,
 * `--faults=manual,kill`,
 * `--after-switch-ms=N`, `--rounds=N` (throughput), `--pipeline-rounds=N`, `--pipeline-commands=N` (a multiple of
 * 2,000), `--pubsub-rounds=N`, `--pubsub-messages=N`, `--pubsub-failovers=N`, `--lock-rounds=N`,
 * `--lock-duration-ms=N` (each uncontended measurement), `--lock-waiters=N`, `--lock-handoffs=N`,
 * `--lock-hold-ms=N` (the contended measurement), `--mq-rounds=N`, `--mq-messages=N`, `--mq-warmup-ms=N`,
 * `--one-jvm` (the queue's and the bus's clients in this JVM, for comparison),
 * `--bus-rounds=N`, `--bus-calls=N`, `--bus-warmup-ms=N`, `--monitor-seconds=N` (each monitor measurement),
 * `--java-rounds=N`, `--java-virtual-threads=N`, `--java-virtual-jdk=DIR` (a JDK ≥ 21 for the virtual threads).
 */
object Bench {
    @JvmStatic
    fun main(args: Array<String>) {
        val options =
            args.flatMap { it.split(" ") }.filter { it.isNotBlank() }.associate {
                it.removePrefix("--").substringBefore("=") to
                    it.substringAfter("=", "")
            }
        var settings = Settings.full(options["runs"]?.toInt() ?: Settings.full().failoverRuns)
        options["only"]?.let { only -> settings = settings.copy(benchmarks = only.split(",").toSet()) }
        options["faults"]?.let { faults ->
            settings = settings.copy(faults = faults.split(",").map { Fault.valueOf(it.uppercase()) })
        }
        options["rounds"]?.let { settings = settings.copy(throughputRounds = it.toInt()) }
        options["pipeline-rounds"]?.let { settings = settings.copy(pipelineRounds = it.toInt()) }
        options["pipeline-commands"]?.let { settings = settings.copy(pipelineCommands = it.toInt()) }
        options["pubsub-rounds"]?.let { settings = settings.copy(pubsubRounds = it.toInt()) }
        options["pubsub-messages"]?.let { settings = settings.copy(pubsubMessages = it.toInt()) }
        options["pubsub-failovers"]?.let { settings = settings.copy(pubsubFailovers = it.toInt()) }
        settings = lockOptions(settings, options)
        settings = javaOptions(settings, options)
        options["monitor-seconds"]?.let { settings = settings.copy(monitorDuration = Duration.ofSeconds(it.toLong())) }
        options["after-switch-ms"]?.let { settings = settings.copy(afterSwitch = Duration.ofMillis(it.toLong())) }
        val dir = File(options["report-dir"] ?: "target/benchmarks")
        val results = run(settings) { println("[bench] $it") }
        val markdown = Report.markdown(results)
        dir.mkdirs()
        val file = File(dir, "results-${results.started.format(FILE_STAMP)}.md")
        file.writeText(markdown)
        println()
        println(markdown)
        println("[bench] report written to ${file.absolutePath}")
        // Netty's and Lettuce's threads are shut down; exit explicitly all the same, so that exec:exec never hangs.
        exitProcess(0)
    }

    /** [settings] with the lock and queue benchmarks' options applied. */
    private fun lockOptions(
        settings: Settings,
        options: Map<String, String>,
    ): Settings {
        var result = settings
        options["lock-rounds"]?.let { result = result.copy(lockRounds = it.toInt()) }
        options["lock-duration-ms"]?.let { result = result.copy(lockDuration = Duration.ofMillis(it.toLong())) }
        options["lock-waiters"]?.let { result = result.copy(lockWaiters = it.toInt()) }
        options["lock-handoffs"]?.let { result = result.copy(lockHandoffs = it.toInt()) }
        options["lock-hold-ms"]?.let { result = result.copy(lockHold = Duration.ofMillis(it.toLong())) }
        options["mq-rounds"]?.let { result = result.copy(mqRounds = it.toInt()) }
        options["mq-messages"]?.let { result = result.copy(mqMessages = it.toInt()) }
        options["mq-warmup-ms"]?.let { result = result.copy(mqWarmup = Duration.ofMillis(it.toLong())) }
        options["one-jvm"]?.let { result = result.copy(oneJvm = it != "false") }
        options["bus-rounds"]?.let { result = result.copy(busRounds = it.toInt()) }
        options["bus-calls"]?.let { result = result.copy(busCalls = it.toInt()) }
        options["bus-warmup-ms"]?.let { result = result.copy(busWarmup = Duration.ofMillis(it.toLong())) }
        return result
    }

    /** [settings] with the Java-path benchmark's options applied. */
    private fun javaOptions(
        settings: Settings,
        options: Map<String, String>,
    ): Settings {
        var result = settings
        options["java-rounds"]?.let { result = result.copy(javaRounds = it.toInt()) }
        options["java-virtual-threads"]?.let { result = result.copy(javaVirtualThreads = it.toInt()) }
        options["java-virtual-jdk"]?.let { result = result.copy(javaVirtualJdk = it) }
        return result
    }

    /** Runs every benchmark on one fresh topology and returns the figures; [progress] gets one line per step. */
    fun run(
        settings: Settings,
        progress: (String) -> Unit,
    ): Results {
        val started = OffsetDateTime.now()
        val begin = System.nanoTime()
        val inspect = Inspect()
        // Its own client, event loops included: the sentinel events are the clock, and must not queue behind others.
        val watchClient = Inspect.client()
        try {
            return Topology.start(TopologyConfig(sentinelInfoPeriod = settings.sentinelInfoPeriod)).use { topology ->
                val machine = Machine.describe("redis-server ${topology.binary.version} (${topology.binary.source})")
                progress("topology started in ${topology.startupTime.toMillis()} ms: ${topology.nodes.joinToString()}")
                SentinelEvents(watchClient, topology.sentinels).use { events ->
                    runBlocking {
                        val wanted = settings.benchmarks
                        val context = BenchContext(topology, inspect, events, settings, progress)
                        val connections = ConnectionsBench(context)
                        val throughput = ThroughputBench(context)
                        val pipelines = PipelineBench(context)
                        val pubsub = PubSubBench(context)
                        val lock = LockBench(context)
                        val mq = MqBench(context)
                        val bus = BusBench(context)
                        val failover = FailoverBench(context)
                        Results(
                            started = started,
                            settings = settings,
                            machine = machine,
                            topology = describe(topology),
                            connections = if (Settings.CONNECTIONS in wanted) connections.run() else null,
                            throughput = if (Settings.THROUGHPUT in wanted) throughput.run() else null,
                            java = if (Settings.JAVA in wanted) JavaPathBench(context).run() else null,
                            pipeline = if (Settings.PIPELINE in wanted) pipelines.run() else null,
                            pubsub = if (Settings.PUBSUB in wanted) pubsub.run() else null,
                            lock = if (Settings.LOCK in wanted) lock.run() else null,
                            mq = if (Settings.MQ in wanted) mq.run() else null,
                            bus = if (Settings.BUS in wanted) bus.run() else null,
                            failovers = if (Settings.FAILOVER in wanted) failover.run() else null,
                            monitor = if (Settings.MONITOR in wanted) MonitorBench(settings, progress).run() else null,
                            duration = Duration.ofNanos(System.nanoTime() - begin),
                        ).also { machine.loadAfter = Machine.load() }
                    }
                }
            }
        } finally {
            inspect.close()
            watchClient.shutdown()
        }
    }

    private fun describe(topology: Topology): String =
        with(topology.config) {
            "1 master, $replicasPerMaster replicas, ${topology.sentinels.size} sentinels, quorum $quorum, " +
                "down-after ${downAfter.toMillis()} ms, failover-timeout ${failoverTimeout.toMillis()} ms, " +
                "sentinel INFO period " +
                (sentinelInfoPeriod?.let { "${it.toMillis()} ms" } ?: "Sentinel's default (10 s)")
        }

    private val FILE_STAMP: DateTimeFormatter = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
}
