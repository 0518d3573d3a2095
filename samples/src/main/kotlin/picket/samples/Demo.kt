package picket.samples

import picket.testkit.NodeRole
import picket.testkit.Topology
import picket.testkit.TopologyConfig

/**
 * The README demo: starts a real topology on loopback (one master, two replicas, three sentinels), prints what it
 * started, and tears it down. Later capabilities extend it into a tour.
 */
object Demo {
    @JvmStatic
    fun main(args: Array<String>) {
        println("Picket demo: a Redis master group behind Sentinel, started on loopback by picket-testkit")
        Topology.start(TopologyConfig()).use { topology ->
            val binary = topology.binary
            println("binary: redis-server ${binary.version} from ${binary.source} (${binary.path})")
            println("started ${topology.nodes.size} nodes in ${topology.startupTime.toMillis()} ms")
            topology.roles().forEach { (node, role) ->
                println("  %-12s %-16s pid %-8d %s".format(node.name, node.address, node.pid, describe(role)))
            }
        }
        println("topology stopped: every process it started has exited")
    }

    private fun describe(role: NodeRole): String =
        when (role) {
            is NodeRole.Master -> "master with ${role.replicaAddresses.size} replicas"
            is NodeRole.Replica -> "replica of ${role.masterAddress}, link ${if (role.linkUp) "up" else "down"}"
            is NodeRole.Sentinel -> "sentinel monitoring ${role.masterNames.joinToString()}"
            is NodeRole.Unavailable -> "unavailable: ${role.reason}"
        }
}
