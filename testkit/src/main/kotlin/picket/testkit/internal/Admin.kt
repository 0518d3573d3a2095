package picket.testkit.internal

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisConnectionException
import io.lettuce.core.RedisURI
import io.lettuce.core.SocketOptions
import io.lettuce.core.SslOptions
import io.lettuce.core.SslVerifyMode
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.StatefulConnection
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.protocol.ProtocolVersion
import io.lettuce.core.resource.DefaultClientResources
import io.lettuce.core.sentinel.api.sync.RedisSentinelCommands
import picket.testkit.NodeKind
import picket.testkit.NodeRole
import picket.testkit.RedisNode
import picket.testkit.TlsFiles
import picket.testkit.TopologyConfig
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * Short-lived Lettuce connections for the test kit's own commands (PING, ROLE, SENTINEL …), one per call, with
 * the credentials that the node's kind needs and tight timeouts, so that a paused node costs at most [timeout].
 * On a TLS topology they trust both authorities and present the client certificate.
 */
internal class Admin(
    private val config: TopologyConfig,
    private val tls: TlsFiles? = null,
) : AutoCloseable {
    private val resources =
        DefaultClientResources
            .builder()
            .ioThreadPoolSize(2)
            .computationThreadPoolSize(1)
            .build()
    private val client =
        RedisClient.create(resources).apply {
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(false)
                    .protocolVersion(ProtocolVersion.RESP2)
                    .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).build())
                    .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                    .apply {
                        if (tls != null) {
                            sslOptions(
                                SslOptions
                                    .builder()
                                    .jdkSslProvider()
                                    .trustManager(tls.bothAuthorities.toFile())
                                    .keyManager(tls.clientCertificate.toFile(), tls.clientKey.toFile(), null)
                                    .build(),
                            )
                        }
                    }.build()
        }

    fun <T> commands(
        node: RedisNode,
        timeout: Duration = COMMAND_TIMEOUT,
        block: (RedisCommands<String, String>) -> T,
    ): T = client.connect(uri(node, timeout)).use { block(open(it, node).sync()) }

    fun <T> sentinel(
        node: RedisNode,
        timeout: Duration = COMMAND_TIMEOUT,
        block: (RedisSentinelCommands<String, String>) -> T,
    ): T = client.connectSentinel(uri(node, timeout)).use { block(open(it, node).sync()) }

    /**
     * [connection], or a [RedisConnectionException] if it is already closed. Lettuce can return a connection whose
     * channel its own handshake timeout is closing: the timeout task (on another thread) saw the handshake unfinished
     * and closed the channel while the event loop was completing it. The first command then fails with "Currently
     * not connected. Commands are rejected."; this says instead which node and why.
     */
    private fun <C : StatefulConnection<*, *>> open(
        connection: C,
        node: RedisNode,
    ): C {
        if (!connection.isOpen) {
            throw RedisConnectionException("connection to $node closed as its handshake completed (handshake timeout)")
        }
        return connection
    }

    /** The pid of the process that answers on [node]'s port (`process_id` of `INFO server`). */
    fun processId(
        node: RedisNode,
        timeout: Duration,
    ): Long? =
        commands(node, timeout) { it.info("server") }
            .lineSequence()
            .firstOrNull { it.startsWith("process_id:") }
            ?.substringAfter(':')
            ?.trim()
            ?.toLongOrNull()

    fun role(node: RedisNode): NodeRole =
        when {
            !node.isRunning -> {
                NodeRole.Unavailable("not running")
            }

            node.isPaused -> {
                NodeRole.Unavailable("paused")
            }

            else -> {
                try {
                    parseRole(commands(node) { it.role() })
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: RuntimeException,
                ) {
                    NodeRole.Unavailable("${e::class.simpleName}: ${e.message}")
                }
            }
        }

    override fun close() {
        client.shutdown(0, SHUTDOWN_SECONDS, TimeUnit.SECONDS)
        resources.shutdown(0, SHUTDOWN_SECONDS, TimeUnit.SECONDS)
    }

    private fun uri(
        node: RedisNode,
        timeout: Duration,
    ): RedisURI {
        val builder =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(timeout)
        if (tls != null) builder.withSsl(true).withVerifyPeer(SslVerifyMode.CA)
        if (node.kind == NodeKind.SENTINEL) {
            config.sentinelPassword?.let { builder.withPassword(it.toCharArray()) }
        } else {
            val user = config.aclUser
            if (user != null) {
                builder.withAuthentication(user.username, user.password)
            } else {
                config.dataPassword?.let { builder.withPassword(it.toCharArray()) }
            }
        }
        return builder.build()
    }

    companion object {
        val CONNECT_TIMEOUT: Duration = Duration.ofSeconds(1)
        val COMMAND_TIMEOUT: Duration = Duration.ofSeconds(2)
        private const val SHUTDOWN_SECONDS = 2L

        fun parseRole(reply: List<Any?>): NodeRole =
            when (reply.firstOrNull()?.toString()) {
                "master" -> {
                    NodeRole.Master(
                        (reply.getOrNull(2) as? List<*>).orEmpty().map {
                            (it as List<*>).let { r ->
                                "${r[0]}:${r[1]}"
                            }
                        },
                    )
                }

                "slave" -> {
                    NodeRole.Replica("${reply[1]}:${reply[2]}", reply[3]?.toString() == "connected")
                }

                "sentinel" -> {
                    NodeRole.Sentinel((reply.getOrNull(1) as? List<*>).orEmpty().map { it.toString() })
                }

                else -> {
                    NodeRole.Unavailable("unexpected ROLE reply $reply")
                }
            }
    }
}
