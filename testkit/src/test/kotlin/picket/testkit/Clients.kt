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

    fun isAlive(pid: Long): Boolean = ProcessHandle.of(pid).map { it.isAlive }.orElse(false)
}
