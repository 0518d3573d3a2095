package picket.sentinel.testing

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.withTimeout
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.concurrent.thread
import kotlin.reflect.KClass
import kotlin.time.Duration

/**
 * A `main` in a JVM of its own, on this JVM's test class path (`java -XX:TieredStopAtLevel=1 -Xmx256m -cp …`), for a
 * spec to kill with SIGKILL ([kill]); its stdout and stderr are read line by line from a daemon thread. Closing it
 * kills it.
 *
 * ```kotlin
 * ChildJvm.start(KillableWorker::class, sentinels, masterName).use { child ->
 *     child.line("started", 20.seconds)
 *     child.kill()
 *     child.process.waitFor(10, TimeUnit.SECONDS) shouldBe true
 * }
 * ```
 */
class ChildJvm private constructor(
    /** The child's process: its exit status, whether it is alive. */
    val process: Process,
    name: String,
) : AutoCloseable {
    private val output = Channel<String>(Channel.UNLIMITED)

    /** Every line the child printed so far, in order. */
    val lines: MutableList<String> = CopyOnWriteArrayList()

    init {
        thread(isDaemon = true, name = "$name-output") {
            process.inputStream.bufferedReader().forEachLine {
                lines += it
                output.trySend(it)
            }
            output.close()
        }
    }

    /**
     * The next line the child prints that starts with [prefix], within [timeout]; the lines before it are passed
     * over (a later call does not see them).
     */
    suspend fun line(
        prefix: String,
        timeout: Duration,
    ): String = withTimeout(timeout) { output.receiveAsFlow().first { it.startsWith(prefix) } }

    /** SIGKILL: the child gets no chance to clean up. */
    fun kill() {
        process.destroyForcibly()
    }

    override fun close() = kill()

    companion object {
        /** Starts [main]'s `main(args)` in a child JVM; `-XX:TieredStopAtLevel=1 -Xmx256m` start it quickly. */
        fun start(
            main: KClass<*>,
            vararg args: String,
        ): ChildJvm {
            val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
            val command =
                listOf(
                    java,
                    "-XX:TieredStopAtLevel=1",
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    main.java.name,
                ) + args
            val name = main.simpleName.orEmpty().lowercase()
            return ChildJvm(ProcessBuilder(command).redirectErrorStream(true).start(), name)
        }
    }
}
