package picket.bench

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import picket.testkit.RedisNode
import java.lang.management.ManagementFactory
import java.time.Duration
import java.util.Locale

/**
 * Plain Lettuce connections, opened for one look at a node and closed again, so that they never count as a
 * client's connection. Named [CLIENT_NAME] in `CLIENT LIST`.
 */
class Inspect(
    val client: RedisClient,
) {
    fun uri(node: RedisNode): RedisURI =
        RedisURI
            .builder()
            .withHost(node.host)
            .withPort(node.port)
            .withClientName(CLIENT_NAME)
            .withTimeout(TIMEOUT)
            .build()

    fun <T> on(
        node: RedisNode,
        block: (RedisCommands<String, String>) -> T,
    ): T = client.connect(uri(node)).use { block(it.sync()) }

    /** [node]'s CPU seconds so far, user and system (`INFO cpu`). */
    fun serverCpuSeconds(node: RedisNode): Double =
        on(node) { it.info("cpu") }
            .lines()
            .filter { it.startsWith("used_cpu_user:") || it.startsWith("used_cpu_sys:") }
            .sumOf { it.substringAfter(":").trim().toDouble() }

    /** Calls of each command on [node] so far (`INFO commandstats`), by command name. */
    fun commandCalls(node: RedisNode): Map<String, Long> =
        on(node) { it.info("commandstats") }
            .lines()
            .filter { it.startsWith("cmdstat_") }
            .associate {
                it.substringAfter("cmdstat_").substringBefore(":") to
                    it.substringAfter("calls=").substringBefore(",").toLong()
            }

    companion object {
        const val CLIENT_NAME = "bench-inspect"

        /** Commands called less than once per this many operations are left out of [perOperation]. */
        private const val SHOWN_FROM = 100

        /**
         * Calls per operation of each command between two [commandCalls], the busiest first, for a progress line:
         * "hset 2.00, rpop 1.00, …" (commands called less than once per 100 operations left out).
         */
        fun perOperation(
            before: Map<String, Long>,
            after: Map<String, Long>,
            operations: Int,
        ): String =
            after
                .mapValues { (k, v) -> v - (before[k] ?: 0) }
                .filterValues { it * SHOWN_FROM >= operations }
                .entries
                .sortedByDescending { it.value }
                .joinToString { "${it.key} ${String.format(Locale.ROOT, "%.2f", it.value.toDouble() / operations)}" }

        /** This JVM's CPU nanoseconds so far, every thread. */
        fun processCpuNanos(): Long =
            (ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean).processCpuTime

        private val TIMEOUT: Duration = Duration.ofSeconds(5)

        /** A client that never reconnects by itself and times out every command. */
        fun client(): RedisClient =
            RedisClient.create().apply {
                options =
                    ClientOptions
                        .builder()
                        .autoReconnect(false)
                        .timeoutOptions(TimeoutOptions.enabled(TIMEOUT))
                        .build()
            }
    }
}
