package picket.testkit.internal

import picket.testkit.NodeRole
import picket.testkit.RedisNode
import java.net.InetSocketAddress

/**
 * Whether one master group has settled: every live sentinel names the same running master and flags it plainly
 * `master` (no failover in progress, not down), that node says it is master, and every other live data node of the
 * group is its replica with a connected link. Each check returns null when settled, else why not.
 */
internal class Convergence(
    private val admin: Admin,
    private val sentinels: List<RedisNode>,
    private val nodeAt: (String) -> RedisNode?,
    private val allData: (String) -> List<RedisNode>,
) {
    fun check(
        masterName: String,
        group: List<RedisNode>,
        notEqualTo: RedisNode?,
        startup: Boolean,
    ): Pair<RedisNode?, String?> {
        val master =
            if (sentinels.isEmpty()) {
                group.firstOrNull { admin.role(it) is NodeRole.Master } ?: return null to "no data node is master"
            } else {
                val (node, reason) = sentinelsAgree(masterName, group.size - 1, startup)
                node ?: return null to reason
            }
        if (master == notEqualTo) return null to "sentinels still name $master"
        val role = admin.role(master)
        if (role !is NodeRole.Master) return null to "$master, named by the sentinels, is $role"
        group.filter { it != master && it.isRunning && !it.isPaused }.forEach { replica ->
            val replicaRole = admin.role(replica)
            if (replicaRole !is NodeRole.Replica || replicaRole.masterAddress != master.address ||
                !replicaRole.linkUp
            ) {
                return null to "$replica is $replicaRole, not a connected replica of $master"
            }
        }
        return master to null
    }

    private fun sentinelsAgree(
        masterName: String,
        replicas: Int,
        startup: Boolean,
    ): Pair<RedisNode?, String?> {
        val live = sentinels.filter { it.isRunning && !it.isPaused }
        if (live.isEmpty()) return null to "no sentinel is running"
        val answers =
            live.associateWith { sentinel ->
                admin.sentinel(sentinel) { it.getMasterAddrByName(masterName) }?.let { address ->
                    address as InetSocketAddress
                    "${address.hostString}:${address.port}"
                }
            }
        val addresses = answers.values.toSet()
        if (addresses.size != 1 || addresses.single() == null) return null to "sentinels disagree: $answers"
        val address = addresses.single()!!
        val master = nodeAt(address) ?: return null to "sentinels name $address, no data node of $masterName"
        live.forEach { sentinel ->
            val state = admin.sentinel(sentinel) { it.master(masterName) }
            if (state["flags"] != "master") return null to "$sentinel flags $masterName '${state["flags"]}'"
            // At start-up a failover must be possible at once: every sentinel knows the others and the replicas.
            if (startup) {
                val others = state["num-other-sentinels"]?.toInt()
                val known = state["num-slaves"]?.toInt()
                if (others != sentinels.size - 1 || known != replicas) {
                    return null to "$sentinel knows $others other sentinels and $known replicas of $masterName"
                }
            }
        }
        val problem = liveReplicasSeenAsGood(live, masterName, master)
        return if (problem == null) master to null else null to problem
    }

    /**
     * Null when every live sentinel sees every live replica of [master] as a plain `slave` with its link ok: only
     * then can a failover triggered right away pick one (Sentinel refreshes a replica's state every 10 s, so right
     * after a restart it may still see it as down).
     */
    private fun liveReplicasSeenAsGood(
        live: List<RedisNode>,
        masterName: String,
        master: RedisNode,
    ): String? {
        val replicas =
            master.masterName?.let { name -> allData(name) }.orEmpty().filter {
                it != master && it.isRunning &&
                    !it.isPaused
            }
        live.forEach { sentinel ->
            val seen = admin.sentinel(sentinel) { it.replicas(masterName) }.associateBy { "${it["ip"]}:${it["port"]}" }
            replicas.forEach { replica ->
                val state = seen[replica.address] ?: return "$sentinel does not list $replica yet"
                if (state["flags"] != "slave" || state["master-link-status"] != "ok") {
                    return "$sentinel sees $replica as '${state["flags"]}', link '${state["master-link-status"]}'"
                }
            }
        }
        return null
    }
}
