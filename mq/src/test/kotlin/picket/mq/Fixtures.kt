package picket.mq

import io.kotest.assertions.nondeterministic.eventually
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import picket.core.Address
import picket.sentinel.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** The topology's sentinels as a Picket group. */
fun Topology.sentinelGroup(): SentinelGroup = SentinelGroup(sentinels.map { Address(it.host, it.port) })

/** A plain Lettuce client, as `redis-cli` would be: no Picket, no scripts. */
object Raw {
    private val client: RedisClient by lazy {
        RedisClient.create().apply {
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(false)
                    .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                    .build()
        }
    }

    fun <T> on(
        node: RedisNode,
        block: (RedisCommands<String, String>) -> T,
    ): T {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(Duration.ofSeconds(2))
                .build()
        return client.connect(uri).use { block(it.sync()) }
    }

    /** Calls of each command on [node] so far (`INFO commandstats`), by command name. */
    fun commandCalls(node: RedisNode): Map<String, Long> =
        on(node) { it.info("commandstats") }
            .lines()
            .filter { it.startsWith("cmdstat_") }
            .associate { line ->
                line.substringAfter("cmdstat_").substringBefore(":") to
                    line.substringAfter("calls=").substringBefore(",").toLong()
            }
}

/** Waits until [block] passes, for at most [seconds]. */
suspend fun <T> within(
    seconds: Int,
    block: suspend () -> T,
): T = eventually(seconds.seconds) { block() }
