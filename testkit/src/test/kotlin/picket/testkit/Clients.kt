package picket.testkit

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.protocol.ProtocolVersion
import java.time.Duration

/** An independent Lettuce client for specs, so that the test kit is not checked with its own admin code. */
object Clients {
    private val client: RedisClient by lazy {
        RedisClient.create().apply {
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(false)
                    .protocolVersion(ProtocolVersion.RESP2)
                    .timeoutOptions(TimeoutOptions.enabled(Duration.ofMillis(500)))
                    .build()
        }
    }

    fun <T> on(
        node: RedisNode,
        username: String? = null,
        password: String? = null,
        block: (RedisCommands<String, String>) -> T,
    ): T {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(Duration.ofMillis(500))
        when {
            username != null -> uri.withAuthentication(username, password!!)
            password != null -> uri.withPassword(password.toCharArray())
        }
        return client.connect(uri.build()).use { block(it.sync()) }
    }

    /** A TLS connection to [node] trusting [authority], presenting the client certificate if [present]. */
    fun <T> onTls(
        node: RedisNode,
        files: TlsFiles,
        authority: java.nio.file.Path,
        present: Boolean,
        block: (RedisCommands<String, String>) -> T,
    ): T {
        val ssl =
            io.lettuce.core.SslOptions
                .builder()
                .jdkSslProvider()
                .trustManager(authority.toFile())
                .apply { if (present) keyManager(files.clientCertificate.toFile(), files.clientKey.toFile(), null) }
                .build()
        val tlsClient =
            RedisClient.create().apply {
                options =
                    ClientOptions
                        .builder()
                        .autoReconnect(false)
                        .sslOptions(ssl)
                        .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                        .build()
            }
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withSsl(true)
                .withTimeout(Duration.ofSeconds(2))
                .build()
        try {
            return tlsClient.connect(uri).use { block(it.sync()) }
        } finally {
            tlsClient.shutdown(Duration.ZERO, Duration.ofSeconds(2))
        }
    }

    fun isAlive(pid: Long): Boolean = ProcessHandle.of(pid).map { it.isAlive }.orElse(false)
}
