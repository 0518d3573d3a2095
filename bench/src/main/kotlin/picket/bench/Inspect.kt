package picket.bench

import io.lettuce.core.RedisClient
import picket.testkit.PlainClient
import picket.testkit.RedisNode
import java.lang.management.ManagementFactory
import java.time.Duration
import java.util.Locale

/**
 * The test kit's [PlainClient] as the benchmarks use it: connections opened for one look at a node and closed again,
 * named [CLIENT_NAME] in `CLIENT LIST` so that they never count as a client's connection, with a 5 s timeout; plus
 * the benchmarks' own figures. [close] shuts its Lettuce client down.
 */
class Inspect : PlainClient(TIMEOUT, clientName = CLIENT_NAME) {
    /** [node]'s CPU seconds so far, user and system (`INFO cpu`). */
    fun serverCpuSeconds(node: RedisNode): Double =
        on(node) { it.info("cpu") }
            .lines()
            .filter { it.startsWith("used_cpu_user:") || it.startsWith("used_cpu_sys:") }
            .sumOf { it.substringAfter(":").trim().toDouble() }

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

        /** A Lettuce client with the same settings (no reconnection, commands timed out), for other connections. */
        fun client(): RedisClient = RedisClient.create().apply { options = PlainClient.options(TIMEOUT) }
    }
}
