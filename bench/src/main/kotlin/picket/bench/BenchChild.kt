package picket.bench

import kotlinx.coroutines.runBlocking
import picket.core.Address
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

/** A client of a side-by-side benchmark (the queue's, the bus's), run by [BenchChild]. */
internal interface ChildClient : AutoCloseable {
    val name: String

    /** One pass of [operations] operations, its keys named after [tag]; figures of its own to report, as words. */
    suspend fun run(
        tag: String,
        operations: Int,
    ): List<String>
}

/**
 * The program of one benchmark client in a JVM of its own, driven by [ClientJvm] over standard input and output:
 * each client runs alone in a JVM, so that its JIT profiles and threads are its own (in one JVM, Picket's queue used
 * more than twice the CPU per message once Redisson's rounds had run beside it, while the plain loop's barely moved).
 *
 * Arguments: the client (`mq-picket`, `mq-plain`, `mq-redisson`, `bus-picket`, `bus-plain`, `bus-redisson`),
 * comma-separated sentinels `host:port`, the master's name, the master `host:port`, and the client's sizes,
 * comma-separated (the queue's handlers; the bus's calls in flight and workers). Commands, one per line:
 * `warmup <ms> <operations per pass>` → `warmed <passes>`; `run <tag> <operations>` → `done <nanoseconds> <this JVM's
 * CPU nanoseconds> <the client's own figures…>`; `quit`. Replies start with [PREFIX]; a failure is `failed <message>`
 * and ends the program with status 1.
 */
internal object BenchChild {
    const val PREFIX = "bench-child: "

    @JvmStatic
    fun main(args: Array<String>) {
        require(args.size == ARGS) { "usage: BenchChild client sentinels masterName master sizes" }
        val status =
            try {
                client(args).use { serve(it) }
                0
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                reply("failed ${e::class.simpleName}: ${e.message}")
                1
            }
        exitProcess(status)
    }

    /** The client [args] name (see [main]). */
    fun client(args: Array<String>): ChildClient {
        val sentinels = args[1].split(",").map(::address)
        val masterName = args[2]
        val master = address(args[MASTER])
        val sizes = args[SIZES].split(",").map { it.toInt() }
        return when (val kind = args[0]) {
            "mq-picket" -> MqClient.picket(sentinels, masterName, sizes[0])
            "mq-plain" -> MqClient.plain(master, sizes[0])
            "mq-redisson" -> MqClient.redisson(master, sizes[0])
            "bus-picket" -> BusClient.picket(sentinels, masterName, sizes[0], sizes[1])
            "bus-plain" -> BusClient.plain(master, sizes[0], sizes[1])
            "bus-redisson" -> BusClient.redisson(master, sizes[0], sizes[1])
            else -> throw IllegalArgumentException("unknown client '$kind'")
        }
    }

    private fun serve(client: ChildClient) {
        while (true) {
            val words = (readlnOrNull() ?: return).trim().split(" ")
            if (words[0] == "quit") return
            reply(answer(client, words))
        }
    }

    /** Runs one command ([words]) on [client] and returns the reply (without [PREFIX]). */
    fun answer(
        client: ChildClient,
        words: List<String>,
    ): String =
        when (words[0]) {
            "warmup" -> {
                val until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(words[1].toLong())
                var pass = 0
                while (pass == 0 || System.nanoTime() < until) {
                    runBlocking { client.run("warmup-${pass++}-${client.name.hashCode()}", words[2].toInt()) }
                }
                "warmed $pass"
            }

            "run" -> {
                val cpu = Inspect.processCpuNanos()
                val start = System.nanoTime()
                val figures = runBlocking { client.run(words[1], words[2].toInt()) }
                val nanos = System.nanoTime() - start
                (listOf("done", "$nanos", "${Inspect.processCpuNanos() - cpu}") + figures).joinToString(" ")
            }

            else -> {
                throw IllegalArgumentException("unknown command '${words[0]}'")
            }
        }

    private fun reply(line: String) {
        println(PREFIX + line)
        System.out.flush()
    }

    private fun address(hostPort: String): Address =
        Address(hostPort.substringBeforeLast(":"), hostPort.substringAfterLast(":").toInt())

    private const val ARGS = 5
    private const val MASTER = 3
    private const val SIZES = 4
}
