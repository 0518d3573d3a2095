package picket.bench

import java.io.File
import java.time.Duration
import java.time.OffsetDateTime
import kotlin.math.ceil

/** Where the figures were measured. */
class Machine(
    val processors: Int,
    val cpu: String,
    val memory: String,
    val os: String,
    val java: String,
    val redisServer: String,
    val lettuce: String,
    /** /proc/loadavg when the run started and when it ended: other work on the machine shows here. */
    val loadBefore: String,
    var loadAfter: String = "",
) {
    companion object {
        fun describe(redisServer: String): Machine =
            Machine(
                processors = Runtime.getRuntime().availableProcessors(),
                cpu = procField("/proc/cpuinfo", "model name") ?: System.getProperty("os.arch"),
                memory = procField("/proc/meminfo", "MemTotal") ?: "?",
                os = "${System.getProperty("os.name")} ${System.getProperty("os.version")}",
                java = "${System.getProperty("java.vm.name")} ${System.getProperty("java.runtime.version")}",
                redisServer = redisServer,
                lettuce = io.lettuce.core.RedisClient::class.java.`package`.implementationVersion ?: "?",
                loadBefore = load(),
            )

        fun load(): String = runCatching { File("/proc/loadavg").readText().trim() }.getOrDefault("?")

        private fun procField(
            file: String,
            name: String,
        ): String? =
            runCatching {
                File(file)
                    .readLines()
                    .firstOrNull { it.startsWith(name) }
                    ?.substringAfter(":")
                    ?.trim()
            }.getOrNull()
    }
}

/** Everything one run of the benchmark command measured. */
@Suppress("LongParameterList") // one figure set per benchmark, each null when not run
class Results(
    val started: OffsetDateTime,
    val settings: Settings,
    val machine: Machine,
    val topology: String,
    /** Null when not run (`--only`). */
    val connections: List<ConnectionsPhase>?,
    val throughput: ThroughputResult?,
    val pipeline: PipelineResult?,
    val pubsub: PubSubResult?,
    val lock: LockResult?,
    val failovers: List<FailoverRun>?,
    val duration: Duration,
    /** The queue benchmark (`--only=mq`); null when not run. */
    val mq: MqResult? = null,
    val monitor: MonitorResult? = null,
    /** The bus benchmark (`--only=bus`); null when not run. */
    val bus: BusResult? = null,
    /** The Java-path benchmark (`--only=java`); null when not run. */
    val java: JavaPathResult? = null,
)

/** The median of [values], or null if there are none. */
fun median(values: List<Double>): Double? {
    if (values.isEmpty()) return null
    val sorted = values.sorted()
    val mid = sorted.size / 2
    return if (sorted.size % 2 == 1) sorted[mid] else (sorted[mid - 1] + sorted[mid]) / 2
}

/** The [p]-quantile of [values] by nearest rank (the smallest value with at least p of them at or below it). */
fun percentile(
    values: List<Double>,
    p: Double,
): Double? {
    if (values.isEmpty()) return null
    val sorted = values.sorted()
    return sorted[(ceil(p * sorted.size).toInt() - 1).coerceIn(0, sorted.size - 1)]
}
