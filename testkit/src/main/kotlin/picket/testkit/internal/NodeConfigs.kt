package picket.testkit.internal

import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import java.nio.file.Files

/** Writes the redis.conf of data nodes and the sentinel.conf of sentinels. */
internal class NodeConfigs(
    private val config: TopologyConfig,
) {
    fun writeData(
        node: RedisNode,
        master: RedisNode?,
    ) {
        val lines = common(node)
        lines += "save \"\""
        lines += if (config.appendOnly) "appendonly yes" else "appendonly no"
        if (config.appendOnly) lines += "appendfsync everysec"
        // Full syncs straight over the socket, without the default 5 s wait for more replicas.
        lines += "repl-diskless-sync yes"
        lines += "repl-diskless-sync-delay 0"
        config.dataPassword?.let { lines += "requirepass $it" }
        config.aclUser?.let { lines += "user ${it.username} on >${it.password} ~* &* +@all" }
        val auth = config.aclUser
        if (auth != null) {
            lines += "masteruser ${auth.username}"
            lines += "masterauth ${auth.password}"
        } else {
            config.dataPassword?.let { lines += "masterauth $it" }
        }
        if (master != null) lines += "replicaof ${master.host} ${master.port}"
        Files.write(node.configFile, lines)
    }

    fun writeSentinel(
        node: RedisNode,
        masters: Map<String, RedisNode>,
    ) {
        val lines = common(node)
        config.sentinelPassword?.let {
            lines += "requirepass $it"
            lines += "sentinel sentinel-pass $it"
        }
        masters.forEach { (name, master) ->
            lines += "sentinel monitor $name ${master.host} ${master.port} ${config.quorum}"
            lines += "sentinel down-after-milliseconds $name ${config.downAfter.toMillis()}"
            lines += "sentinel failover-timeout $name ${config.failoverTimeout.toMillis()}"
            lines += "sentinel parallel-syncs $name 1"
            val auth = config.aclUser
            if (auth != null) {
                lines += "sentinel auth-user $name ${auth.username}"
                lines += "sentinel auth-pass $name ${auth.password}"
            } else {
                config.dataPassword?.let { lines += "sentinel auth-pass $name $it" }
            }
        }
        Files.write(node.configFile, lines)
    }

    private fun common(node: RedisNode): MutableList<String> =
        mutableListOf(
            "port ${node.port}",
            "bind ${node.host}",
            "protected-mode no",
            "daemonize no",
            "dir ${node.directory}",
            "logfile \"\"",
        )
}
