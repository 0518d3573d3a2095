package picket.mq

import io.kotest.assertions.nondeterministic.eventually
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import picket.core.Address
import picket.sentinel.SentinelGroup
import picket.testkit.RedisBinary
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.io.File
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/** The topology's sentinels as a Picket group. */
fun Topology.sentinelGroup(): SentinelGroup = SentinelGroup(sentinels.map { Address(it.host, it.port) })

/** A plain Lettuce client, as `redis-cli` would be: no Picket, no scripts. */
object Raw {
    private val client: RedisClient by lazy {
        RedisClient.create().apply {
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(false)
                    .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                    .build()
        }
    }

    fun <T> on(
        node: RedisNode,
        block: (RedisCommands<String, String>) -> T,
    ): T {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(Duration.ofSeconds(2))
                .build()
        return client.connect(uri).use { block(it.sync()) }
    }

    /** Calls of each command on [node] so far (`INFO commandstats`), by command name. */
    fun commandCalls(node: RedisNode): Map<String, Long> =
        on(node) { it.info("commandstats") }
            .lines()
            .filter { it.startsWith("cmdstat_") }
            .associate { line ->
                line.substringAfter("cmdstat_").substringBefore(":") to
                    line.substringAfter("calls=").substringBefore(",").toLong()
            }
}

/** Waits until [block] passes, for at most [seconds]. */
suspend fun <T> within(
    seconds: Int,
    block: suspend () -> T,
): T = eventually(seconds.seconds) { block() }

/**
 * `redis-cli`, as producers in the issue push with it: the one next to the `redis-server` the test kit runs, else
 * the first on the `PATH`; null when there is none (the embedded-redis artifact ships `redis-server` only), and
 * then [lpush] falls back to a plain Lettuce client.
 */
val redisCli: Path? by lazy {
    val besideServer = RedisBinary.locate().path.resolveSibling("redis-cli")
    val onPath =
        System
            .getenv("PATH")
            .orEmpty()
            .split(File.pathSeparator)
            .filter { it.isNotBlank() }
            .map { Path.of(it, "redis-cli") }
    (listOf(besideServer) + onPath).firstOrNull { Files.isRegularFile(it) && Files.isExecutable(it) }
}

/** Runs `redis-cli -h … -p … args` against [node] and returns what it printed, trimmed; fails on a non-zero exit. */
fun redisCli(
    node: RedisNode,
    vararg args: String,
): String {
    val cli = checkNotNull(redisCli) { "no redis-cli" }
    val process =
        ProcessBuilder(listOf(cli.toString(), "-h", node.host, "-p", node.port.toString()) + args)
            .redirectErrorStream(true)
            .start()
    val output = process.inputStream.bufferedReader().use { it.readText() }
    check(process.waitFor(10, TimeUnit.SECONDS)) { "redis-cli did not finish in 10 s" }
    check(process.exitValue() == 0) { "redis-cli exited with ${process.exitValue()}: $output" }
    return output.trim()
}

/**
 * LPUSHes [messages] to [list] on [node] as any producer would, with `redis-cli` when there is one ([redisCli]),
 * else with a plain Lettuce client; returns the list's length after it.
 */
fun lpush(
    node: RedisNode,
    list: String,
    vararg messages: String,
): Long =
    if (redisCli != null) {
        redisCli(node, "LPUSH", list, *messages).toLong()
    } else {
        Raw.on(node) { it.lpush(list, *messages) }
    }

/**
 * Every command [node] runs while [block] runs, as `MONITOR` reports them: (the master's time in µs, the line). A
 * plain socket, so that nothing of Picket or Lettuce is involved.
 */
suspend fun <T> monitor(
    node: RedisNode,
    block: suspend () -> T,
): Pair<T, List<Pair<Long, String>>> {
    val lines = CopyOnWriteArrayList<Pair<Long, String>>()
    val socket = Socket(node.host, node.port)
    try {
        socket.soTimeout = 0
        socket.getOutputStream().apply {
            write("MONITOR\r\n".toByteArray())
            flush()
        }
        val reader = socket.getInputStream().bufferedReader()
        check(reader.readLine() == "+OK") { "MONITOR was refused" }
        val readerThread =
            thread(name = "monitor-${node.port}", isDaemon = true) {
                try {
                    reader.lineSequence().forEach { line ->
                        val stamp = line.removePrefix("+").substringBefore(' ')
                        stamp.replace(".", "").toLongOrNull()?.let { lines += it to line }
                    }
                } catch (_: java.io.IOException) {
                    // closed below
                }
            }
        val result = block()
        // MONITOR has no end: an ECHO of a marker, once seen, means every earlier command was seen too.
        val marker = "monitor-end-${System.nanoTime()}"
        Raw.on(node) { it.echo(marker) }
        within(10) { check(lines.any { marker in it.second }) { "MONITOR has not shown $marker yet" } }
        socket.close()
        readerThread.join(2_000)
        return result to lines.toList()
    } finally {
        socket.close()
    }
}
