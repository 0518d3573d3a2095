package picket.testkit.internal

import picket.testkit.RedisNode
import picket.testkit.TlsFiles
import picket.testkit.TopologyConfig
import java.nio.file.Files
import java.nio.file.Path

/** Writes the redis.conf of data nodes and the sentinel.conf of sentinels. */
internal class NodeConfigs(
    private val config: TopologyConfig,
    private val tls: TlsFiles?,
) {
    fun writeData(
        node: RedisNode,
        master: RedisNode?,
    ) {
        val lines = common(node)
        tls?.let { lines += tlsLines(it.dataCertificate, it.dataKey, it) }
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
        if (config.announceHostnames) lines += "replica-announce-ip ${node.host}"
        if (master != null) lines += "replicaof ${master.host} ${master.port}"
        Files.write(node.configFile, lines)
    }

    fun writeSentinel(
        node: RedisNode,
        masters: Map<String, RedisNode>,
    ) {
        val lines = common(node)
        tls?.let { lines += tlsLines(it.sentinelCertificate, it.sentinelKey, it) }
        config.sentinelPassword?.let {
            lines += "requirepass $it"
            lines += "sentinel sentinel-pass $it"
        }
        if (config.announceHostnames) {
            lines += "sentinel resolve-hostnames yes"
            lines += "sentinel announce-hostnames yes"
            lines += "sentinel announce-ip ${node.host}"
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

    /**
     * TLS only: the node's [certificate], trust in both authorities (replicas and sentinels are clients of the
     * nodes they connect to), and TLS for its own outgoing connections.
     */
    private fun tlsLines(
        certificate: Path,
        key: Path,
        files: TlsFiles,
    ): List<String> =
        listOf(
            "tls-cert-file $certificate",
            "tls-key-file $key",
            "tls-ca-cert-file ${files.bothAuthorities}",
            "tls-replication yes",
            "tls-auth-clients ${if (config.tls?.requireClientCertificates == true) "yes" else "optional"}",
        )

    private fun common(node: RedisNode): MutableList<String> =
        mutableListOf(
            // TLS only: the plain port is closed.
            "port ${if (tls == null) node.port else 0}",
            // By host name: the loopback address, and the IPv6 one where it exists ('-': optional).
            if (config.announceHostnames) "bind $LOOPBACK -::1" else "bind ${node.host}",
            "protected-mode no",
            "daemonize no",
            "dir ${node.directory}",
            "logfile \"\"",
        ).apply { if (tls != null) add("tls-port ${node.port}") }

    private companion object {
        const val LOOPBACK = "127.0.0.1"
    }
}
