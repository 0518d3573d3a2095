package picket.samples

import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import picket.core.Picket
import picket.monitor.Monitor
import picket.monitor.MonitorOptions
import picket.monitor.Role
import picket.monitor.SentinelNodeWatcher
import picket.testkit.Topology
import java.util.Locale
import kotlin.time.Duration.Companion.seconds

/**
 * The demo's part of the monitor: a table of the topology's nodes (role, ops/s, memory, info age) from a [Monitor]
 * that finds them through the sentinels, before the failover and after it. Lines start with `monitor:`.
 */
class MonitorTable(
    picket: Picket,
    private val topology: Topology,
) : AutoCloseable {
    private val monitor = Monitor(picket, listOf(SentinelNodeWatcher(picket)), MonitorOptions())

    /** Waits until every node is polled, then prints the table. */
    suspend fun before() {
        withTimeout(20.seconds) { while (monitor.states().count { it.info != null } < topology.nodes.size) delay(50) }
        print("before the failover")
    }

    /** Waits until the registry names the new master (one refresh after the switch), then prints the table. */
    suspend fun after(newMaster: String) {
        withTimeout(20.seconds) { while (monitor.registry.node(newMaster)?.role != Role.MASTER) delay(50) }
        print("after the failover")
    }

    private fun print(title: String) {
        println("monitor: $title, ${monitor.states().size} nodes found through the sentinels")
        println("monitor: %-21s %-8s %8s %10s %9s".format(Locale.ROOT, "node", "role", "ops/s", "memory", "info age"))
        monitor.states().forEach { state ->
            val info = state.info
            println(
                "monitor: %-21s %-8s %8s %10s %9s".format(
                    Locale.ROOT,
                    state.id,
                    state.node.role.name
                        .lowercase(),
                    info?.opsPerSecond ?: "-",
                    info?.long("used_memory")?.let { "%.1f MB".format(Locale.ROOT, it / MB) } ?: "-",
                    state.infoAge?.let { "${it.toMillis()} ms" } ?: "-",
                ),
            )
        }
    }

    override fun close() = monitor.close()

    private companion object {
        const val MB = 1_048_576.0
    }
}
