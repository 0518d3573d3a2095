package picket.monitor

import io.kotest.assertions.nondeterministic.eventually
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.ListOfMapsOutput
import io.lettuce.core.output.StatusOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
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

    /** Sends `ACL <args>` to [node]. */
    fun acl(
        node: RedisNode,
        vararg args: String,
    ) {
        on(node) { commands ->
            val command = CommandArgs(StringCodec.UTF8)
            args.forEach { command.add(it) }
            commands.dispatch(CommandType.ACL, StatusOutput(StringCodec.UTF8), command)
        }
    }

    /** Runs [block] on a connection to [node] authenticated as [username]. */
    fun <T> asUser(
        node: RedisNode,
        username: String,
        password: String,
        block: (RedisCommands<String, String>) -> T,
    ): T {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withAuthentication(username, password)
                .withTimeout(Duration.ofSeconds(2))
                .build()
        return client.connect(uri).use { block(it.sync()) }
    }

    /** The names of [node]'s clients (`CLIENT LIST`). */
    fun clientNames(node: RedisNode): List<String> =
        on(node) { commands ->
            commands.clientList().lines().mapNotNull { line ->
                line.split(' ').firstOrNull { it.startsWith("name=") }?.removePrefix("name=")
            }
        }

    /** `SENTINEL RESET masterName` on [sentinel]: it forgets the replicas and sentinels it cannot see now. */
    fun resetSentinel(
        sentinel: RedisNode,
        masterName: String,
    ) {
        client.connectSentinel(uri(sentinel)).use { it.sync().reset(masterName) }
    }

    /** How many other sentinels [sentinel] knows for [masterName]. */
    fun otherSentinels(
        sentinel: RedisNode,
        masterName: String,
    ): Int =
        client.connectSentinel(uri(sentinel)).use { connection ->
            connection
                .sync()
                .dispatch(
                    CommandType.SENTINEL,
                    ListOfMapsOutput(StringCodec.UTF8),
                    CommandArgs(StringCodec.UTF8).add("SENTINELS").add(masterName),
                ).size
        }

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
