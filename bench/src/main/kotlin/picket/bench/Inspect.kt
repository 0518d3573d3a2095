package picket.bench

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import picket.testkit.RedisNode
import java.time.Duration

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

    companion object {
        const val CLIENT_NAME = "bench-inspect"
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
