package picket.monitor

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

/** An independent Lettuce client, to look at nodes and sentinels without going through Picket. */
object Inspect {
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

    private fun uri(node: RedisNode) =
        RedisURI
            .builder()
            .withHost(node.host)
            .withPort(node.port)
            .withTimeout(Duration.ofSeconds(2))
            .build()

    fun <T> on(
        node: RedisNode,
        block: (RedisCommands<String, String>) -> T,
    ): T = client.connect(uri(node)).use { block(it.sync()) }

    /** Every node's role as [sentinel] sees [masterName]'s group now, by id, sentinels included. */
    fun sentinelView(
        sentinel: RedisNode,
        masterName: String,
    ): Map<String, Role> =
        client.connectSentinel(uri(sentinel)).use { connection ->
            val commands = connection.sync()
            val view = LinkedHashMap<String, Role>()
            val master = commands.master(masterName)
            view["${master.getValue("ip")}:${master.getValue("port")}"] = Role.MASTER
            commands
                .replicas(
                    masterName,
                ).forEach { view.putIfAbsent("${it.getValue("ip")}:${it.getValue("port")}", Role.REPLICA) }
            view
        }
}

/** Waits until [block] passes, for at most [seconds]. */
suspend fun <T> within(
    seconds: Int,
    block: suspend () -> T,
): T = eventually(seconds.seconds) { block() }
