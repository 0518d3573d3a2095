package picket.bench

import jdk.jfr.consumer.RecordingFile
import java.io.File
import java.nio.file.Files
import java.time.Duration

/** One measured round of one client and operation, in one [JavaPathMode]. */
class JavaPathRound(
    val round: Int,
    val op: Op,
    val client: String,
    val opsPerSecond: Double,
)

/** The `jdk.VirtualThreadPinned` events JFR recorded in one client's JVM (threshold 0 ms), over its whole life. */
class Pinned(
    val events: Int,
    val totalMs: Double,
    val longestMs: Double,
)

/** The rounds of one way of calling: [threads] platform or virtual threads, on [java]; [skipped] says why not run. */
class JavaPathMode(
    val threads: Int,
    val virtual: Boolean,
    val java: String,
    val rounds: List<JavaPathRound>,
    /** Per client; empty for platform threads, and for a client whose recording could not be read. */
    val pinned: Map<String, Pinned>,
    val skipped: String? = null,
)

class JavaPathResult(
    val node: String,
    val modes: List<JavaPathMode>,
)

/**
 * Issue 22's Java path: Picket's blocking `withConn` against Lettuce's synchronous API over `MasterReplica` (a
 * sentinel URI) and Jedis's `JedisSentinelPool`, on the shared topology's master, with [Settings.callers] platform
 * threads and then [Settings.javaVirtualThreads] virtual threads, each client in a JVM of its own
 * ([JavaPathChild], so that no client's JIT profile or threads weigh on another's). The virtual-thread JVMs run on a
 * JDK ≥ 21 ([Jdks.virtualThreads]) under JFR, which counts each client's pinned virtual threads. Rounds alternate
 * which client goes first, as [ThroughputBench]'s do.
 */
class JavaPathBench(
    context: BenchContext,
) : TopologyBench(context) {
    suspend fun run(): JavaPathResult {
        val master = blocking { topology.awaitMaster(masterName) }
        val platform = measureMode(settings.callers, null)
        val jdk = Jdks.virtualThreads(settings.javaVirtualJdk)
        val virtual =
            if (jdk == null) {
                JavaPathMode(
                    settings.javaVirtualThreads,
                    virtual = true,
                    java = "–",
                    rounds = emptyList(),
                    pinned = emptyMap(),
                    skipped = "no JDK ≥ 21 found (this JVM, --java-virtual-jdk, ${Jdks.SEARCHED})",
                )
            } else {
                measureMode(settings.javaVirtualThreads, jdk)
            }
        return JavaPathResult(master.address, listOf(platform, virtual))
    }

    /** Every round of every client with [threads] callers: platform threads if [jdk] is null, else virtual on it. */
    private suspend fun measureMode(
        threads: Int,
        jdk: Jdks.Jdk?,
    ): JavaPathMode {
        val virtual = jdk != null
        val kind = if (virtual) "virtual" else "platform"
        val recordings = if (virtual) Files.createTempDirectory("picket-java-path").toFile() else null
        val clients = mutableListOf<Pair<String, DrivenClient>>()
        try {
            for (client in JavaPathClients.KINDS) {
                val name = NAMES.getValue(client)
                val args =
                    listOf(
                        client,
                        topology.sentinels.joinToString(",") { "${it.host}:${it.port}" },
                        masterName,
                        "$threads",
                        kind,
                    )
                val jfr = recordings?.let { listOf(jfrOption(File(it, "$client.jfr")), "-Xlog:jfr+startup=error") }
                val jvm =
                    blocking {
                        ClientJvm(
                            name,
                            args,
                            progress,
                            java = jdk?.java ?: File(System.getProperty("java.home"), "bin/java"),
                            jvmArgs = jfr.orEmpty(),
                            main = JavaPathChild::class.java.name,
                        )
                    }
                clients += client to jvm
                for (op in Op.entries) blocking { measure(jvm, op, settings.warmup, Duration.ZERO) }
                progress("java path warm-up: $name, $threads $kind threads, ${settings.warmup.toMillis()} ms per op")
            }
            val rounds =
                (1..settings.javaRounds).flatMap { round ->
                    Op.entries.flatMap { op ->
                        (if (round % 2 == 1) clients else clients.reversed()).map { (client, jvm) ->
                            val ops = blocking { measure(jvm, op, settings.roundWarmup, settings.roundDuration) }
                            progress("java path $kind round $round: ${jvm.name} $op ${ops.toLong()} ops/s")
                            JavaPathRound(round, op, NAMES.getValue(client), ops)
                        }
                    }
                }
            clients.forEach { it.second.close() }
            val pinned =
                recordings?.let { dir ->
                    clients
                        .mapNotNull { (client, _) ->
                            pinned(File(dir, "$client.jfr"))?.let { NAMES.getValue(client) to it }
                        }.toMap()
                }
            return JavaPathMode(threads, virtual, jdk?.describe() ?: Jdks.thisJvm(), rounds, pinned.orEmpty())
        } finally {
            clients.forEach { runCatching { it.second.close() } }
            recordings?.deleteRecursively()
        }
    }

    /** One measurement on [jvm]: [op] for [warmup] uncounted, then [duration]; operations per second. */
    private fun measure(
        jvm: DrivenClient,
        op: Op,
        warmup: Duration,
        duration: Duration,
    ): Double {
        val (ops, nanos) =
            jvm.request("measure $op ${warmup.toMillis()} ${duration.toMillis()}", warmup + duration).map {
                it.toLong()
            }
        return if (nanos == 0L) 0.0 else ops * NANOS_PER_SECOND / nanos
    }

    /** JFR from the start, written to [file] at exit, with every pinned virtual thread recorded (threshold 0). */
    private fun jfrOption(file: File): String = "-XX:StartFlightRecording=filename=${file.path},$PINNED#threshold=0ms"

    /** The pinned events in the recording [file]; null (and a progress line) if it cannot be read. */
    private fun pinned(file: File): Pinned? =
        runCatching {
            val durations = mutableListOf<Duration>()
            RecordingFile(file.toPath()).use { recording ->
                while (recording.hasMoreEvents()) {
                    val event = recording.readEvent()
                    if (event.eventType.name == PINNED) durations += event.duration
                }
            }
            Pinned(
                durations.size,
                durations.sumOf { it.toNanos() } / NANOS_PER_MS,
                (durations.maxOfOrNull { it.toNanos() } ?: 0L) / NANOS_PER_MS,
            )
        }.onFailure { progress("java path: JFR recording $file not read: $it") }.getOrNull()

    companion object {
        const val PICKET_JAVA = "Picket blocking().withConn"
        const val LETTUCE_SYNC = "Lettuce sync, MasterReplica"
        const val JEDIS = "Jedis JedisSentinelPool"

        /** The report's name of each client kind of [JavaPathClients]. */
        val NAMES =
            mapOf(
                JavaPathClients.PICKET to PICKET_JAVA,
                JavaPathClients.LETTUCE to LETTUCE_SYNC,
                JavaPathClients.JEDIS to JEDIS,
            )
        private const val PINNED = "jdk.VirtualThreadPinned"
        private const val NANOS_PER_SECOND = 1e9
        private const val NANOS_PER_MS = 1e6
    }
}
