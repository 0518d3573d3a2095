package picket.sentinel.testing

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.sentinel.api.sync.RedisSentinelCommands
import picket.testkit.RedisNode
import java.time.Duration

/**
 * A plain Lettuce client, as `redis-cli` would be, to look at nodes and sentinels without going through Picket: no
 * reconnection, and a command [timeout] (2 s unless said). One connection per call, closed after it. A module's
 * specs extend it with an object of their own (`object Inspect : PlainClient()`) for their particular queries.
 *
 * [options] replace the client's options as a whole; [PlainClient.lettuceDefaults] is Lettuce's own
 * `RedisClient.create("redis://host:port")`.
 */
open class PlainClient(
    private val timeout: Duration = Duration.ofSeconds(2),
    private val options: ClientOptions =
        ClientOptions
            .builder()
            .autoReconnect(false)
            .timeoutOptions(TimeoutOptions.enabled(timeout))
            .build(),
) {
    private val client: RedisClient by lazy { RedisClient.create().apply { options = this@PlainClient.options } }

    /** Runs [block] on a connection to [node], authenticated with [password] (as [username] if given). */
    fun <T> on(
        node: RedisNode,
        password: String? = null,
        username: String? = null,
        block: (RedisCommands<String, String>) -> T,
    ): T = client.connect(uri(node, password, username)).use { block(it.sync()) }

    /** Runs [block] on a sentinel connection to [node]. */
    fun <T> onSentinel(
        node: RedisNode,
        password: String? = null,
        block: (RedisSentinelCommands<String, String>) -> T,
    ): T = client.connectSentinel(uri(node, password, null)).use { block(it.sync()) }

    /** Connections named [name] on [node] (CLIENT LIST). */
    fun clientsNamed(
        node: RedisNode,
        name: String,
        password: String? = null,
    ): Int = on(node, password) { it.clientList() }.lines().count { line -> line.split(" ").contains("name=$name") }

    private fun uri(
        node: RedisNode,
        password: String?,
        username: String?,
    ): RedisURI {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(timeout)
        when {
            username != null -> {
                uri.withAuthentication(
                    username,
                    checkNotNull(password) { "a username needs a password" },
                )
            }

            password != null -> {
                uri.withPassword(password.toCharArray())
            }
        }
        return uri.build()
    }

    companion object {
        /** Lettuce's defaults, as `RedisClient.create("redis://host:port")` has them: reconnection, a 60 s timeout. */
        fun lettuceDefaults(): PlainClient = PlainClient(RedisURI.DEFAULT_TIMEOUT_DURATION, ClientOptions.create())
    }
}
