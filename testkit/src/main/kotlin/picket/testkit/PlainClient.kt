package picket.testkit

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.sentinel.api.sync.RedisSentinelCommands
import java.time.Duration
import java.util.function.Function

/**
 * A plain Lettuce client, as `redis-cli` would be, to look at nodes and sentinels without going through the client
 * under test: no reconnection, and a command [timeout] (2 s unless said). One connection per call, closed after it.
 * [Inspect] is the shared instance; a caller with particular queries writes them as extension functions on
 * `PlainClient`, or extends it when it needs its own settings.
 *
 * ```kotlin
 * Inspect.on(topology.awaitMaster("orders")) { it.get("greeting") }
 * ```
 *
 * [options] replace the client's options as a whole; [PlainClient.lettuceDefaults] is Lettuce's own
 * `RedisClient.create("redis://host:port")`. With a [clientName], every connection is named so in `CLIENT LIST`, so
 * that counts of a client's connections can leave these out. The Lettuce client is created at the first call and
 * shut down by [close].
 */
public open class PlainClient(
    private val timeout: Duration = DEFAULT_TIMEOUT,
    private val options: ClientOptions = options(timeout),
    private val clientName: String? = null,
) : AutoCloseable {
    private val lazyClient = lazy { RedisClient.create().apply { options = this@PlainClient.options } }
    private val client: RedisClient by lazyClient

    /** Runs [block] on a connection to [node], authenticated with [password] (as [username] if given). */
    public fun <T> on(
        node: RedisNode,
        password: String? = null,
        username: String? = null,
        block: Function<RedisCommands<String, String>, T>,
    ): T = client.connect(uri(node, password, username)).use { block.apply(it.sync()) }

    /** Runs [block] on a sentinel connection to [node]. */
    public fun <T> onSentinel(
        node: RedisNode,
        password: String? = null,
        block: Function<RedisSentinelCommands<String, String>, T>,
    ): T = client.connectSentinel(uri(node, password, null)).use { block.apply(it.sync()) }

    /**
     * [node]'s clients (`CLIENT LIST`), each as its fields by name (`id`, `name`, `flags`, …), this call's own
     * connection included.
     */
    public fun clients(
        node: RedisNode,
        password: String? = null,
    ): List<Map<String, String>> =
        on(node, password) { it.clientList() }
            .lines()
            .filter { it.isNotBlank() }
            .map { line -> line.split(' ').associate { it.substringBefore('=') to it.substringAfter('=', "") } }

    /** Connections named [name] on [node] (`CLIENT LIST`). */
    public fun clientsNamed(
        node: RedisNode,
        name: String,
        password: String? = null,
    ): Int = clients(node, password).count { it["name"] == name }

    /** Calls of each command on [node] so far (`INFO commandstats`), by command name (`evalsha`, `hset`, …). */
    public fun commandCalls(node: RedisNode): Map<String, Long> =
        on(node) { it.info("commandstats") }
            .lines()
            .filter { it.startsWith("cmdstat_") }
            .associate { line ->
                line.substringAfter("cmdstat_").substringBefore(":") to
                    line.substringAfter("calls=").substringBefore(",").toLong()
            }

    /** Shuts the Lettuce client down, if a call created it. */
    override fun close() {
        if (lazyClient.isInitialized()) client.shutdown()
    }

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
        if (clientName != null) uri.withClientName(clientName)
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

    /** The defaults and the client with Lettuce's own settings. */
    public companion object {
        /** The command timeout of a [PlainClient] made without one. */
        @JvmField
        public val DEFAULT_TIMEOUT: Duration = Duration.ofSeconds(2)

        /** A client's options without reconnection and with every command timed out after [timeout]. */
        @JvmStatic
        public fun options(timeout: Duration): ClientOptions =
            ClientOptions
                .builder()
                .autoReconnect(false)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build()

        /** Lettuce's defaults, as `RedisClient.create("redis://host:port")` has them: reconnection, a 60 s timeout. */
        @JvmStatic
        public fun lettuceDefaults(): PlainClient =
            PlainClient(RedisURI.DEFAULT_TIMEOUT_DURATION, ClientOptions.create())
    }
}
