package picket.mq

import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisBinary
import picket.testkit.RedisNode
import java.io.File
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

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
        Inspect.on(node) { it.lpush(list, *messages) }
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
        Inspect.on(node) { it.echo(marker) }
        within(10) { check(lines.any { marker in it.second }) { "MONITOR has not shown $marker yet" } }
        socket.close()
        readerThread.join(2_000)
        return result to lines.toList()
    } finally {
        socket.close()
    }
}
