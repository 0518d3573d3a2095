package picket.bench

import picket.testkit.RedisNode
import picket.testkit.Topology
import java.io.File
import java.lang.management.ManagementFactory
import java.time.Duration
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * A benchmark client driven by commands ([BenchChild.answer]): [request] runs one and returns the words of its reply
 * after the first.
 */
internal interface DrivenClient : AutoCloseable {
    val name: String

    fun request(
        command: String,
        extra: Duration,
    ): List<String>

    companion object {
        /**
         * The client [args] name ([BenchChild.main]'s arguments), called [name]: in a JVM of its own, or in this one
         * if [oneJvm].
         */
        fun start(
            name: String,
            args: List<String>,
            oneJvm: Boolean,
            progress: (String) -> Unit,
        ): DrivenClient =
            if (oneJvm) {
                InProcessClient(
                    name,
                    BenchChild.client(args.toTypedArray()),
                )
            } else {
                ClientJvm(name, args, progress)
            }
    }
}

/** Starts the clients of side-by-side benchmarks on [topology]: in JVMs of their own unless [Settings.oneJvm]. */
internal class SideBySide(
    private val topology: Topology,
    private val settings: Settings,
    private val progress: (String) -> Unit,
) {
    /**
     * Starts the [clients] (kind to name) of [benchmark] (`mq` or `bus`) into [into], one after another, each warmed
     * up for [warmup] in passes of [share] operations before the next starts (none warms up beside another).
     */
    suspend fun start(
        benchmark: String,
        clients: List<Pair<String, String>>,
        into: MutableList<DrivenClient>,
        master: RedisNode,
        sizes: String,
        warmup: Duration,
        share: Int,
    ) {
        val where = if (settings.oneJvm) "in the benchmark's JVM" else "in a JVM of its own"
        for ((kind, name) in clients) {
            val args =
                listOf(
                    "$benchmark-$kind",
                    topology.sentinels.joinToString(",") { "${it.host}:${it.port}" },
                    topology.masterNames.single(),
                    "${master.host}:${master.port}",
                    sizes,
                )
            val client = blocking { DrivenClient.start(name, args, settings.oneJvm, progress) }
            into += client
            val passes = blocking { client.request("warmup ${warmup.toMillis()} $share", warmup) }
            progress("$benchmark warm-up: $name, ${passes.single()} passes of $share operations, $where")
        }
    }
}

/** A client run in the benchmark's own JVM, beside the others (`--one-jvm`). */
internal class InProcessClient(
    override val name: String,
    private val client: ChildClient,
) : DrivenClient {
    override fun request(
        command: String,
        extra: Duration,
    ): List<String> = BenchChild.answer(client, command.split(" ")).split(" ").drop(1)

    override fun close() = client.close()
}

/**
 * A benchmark client ([BenchChild], or another [main] that answers the same way) running in a JVM of its own, started
 * with this JVM's classpath and heap settings (by [java], this JVM's own unless given, with [jvmArgs] besides), driven
 * one command at a time. [request] sends a command and returns the words of its reply; stops the child and throws
 * [IllegalStateException] if it fails, exits or does not answer in time.
 */
internal class ClientJvm(
    override val name: String,
    args: List<String>,
    private val progress: (String) -> Unit,
    java: File = File(System.getProperty("java.home"), "bin/java"),
    jvmArgs: List<String> = emptyList(),
    main: String = BenchChild::class.java.name,
) : DrivenClient {
    private val process: Process =
        ProcessBuilder(
            listOf(java.path) + jvmOptions() + jvmArgs + listOf("-cp", System.getProperty("java.class.path"), main) +
                args,
        ).redirectError(ProcessBuilder.Redirect.INHERIT).start()

    /** The child's replies, in order; [EOF] once its output ended. */
    private val replies = LinkedBlockingQueue<String>()

    init {
        thread(isDaemon = true, name = "bench-client-${args.first()}") {
            process.inputStream.bufferedReader().useLines { lines ->
                lines.forEach { line ->
                    when {
                        line.startsWith(BenchChild.PREFIX) -> replies.put(line.removePrefix(BenchChild.PREFIX))
                        else -> progress(line)
                    }
                }
            }
            replies.put(EOF)
        }
    }

    /** Sends [command] and waits up to [extra] + [ANSWER_WITHIN] for its reply; its words after the first. */
    override fun request(
        command: String,
        extra: Duration,
    ): List<String> {
        val out = process.outputStream
        out.write("$command\n".toByteArray())
        out.flush()
        val reply =
            replies.poll(extra.plus(ANSWER_WITHIN).toMillis(), TimeUnit.MILLISECONDS)
                ?: run {
                    process.destroyForcibly().waitFor()
                    error("the $name client did not answer '$command' within $extra + $ANSWER_WITHIN")
                }
        check(reply != EOF) { "the $name client exited with status ${process.waitFor()}" }
        val words = reply.split(" ")
        check(words[0] != "failed") { "the $name client failed: ${reply.removePrefix("failed ")}" }
        return words.drop(1)
    }

    /** Asks the child to quit, and kills it if it has not within [QUIT_WITHIN]. */
    override fun close() {
        if (!process.isAlive) return
        runCatching {
            process.outputStream.write("quit\n".toByteArray())
            process.outputStream.flush()
        }
        if (!process.waitFor(QUIT_WITHIN.toMillis(), TimeUnit.MILLISECONDS)) process.destroyForcibly().waitFor()
    }

    private companion object {
        const val EOF = "\u0000eof"
        val ANSWER_WITHIN: Duration = Duration.ofMinutes(3)
        val QUIT_WITHIN: Duration = Duration.ofSeconds(20)

        /** This JVM's heap size and system properties, for the child. */
        fun jvmOptions(): List<String> =
            ManagementFactory.getRuntimeMXBean().inputArguments.filter {
                it.startsWith("-Xms") || it.startsWith("-Xmx") || it.startsWith("-D")
            }
    }
}
