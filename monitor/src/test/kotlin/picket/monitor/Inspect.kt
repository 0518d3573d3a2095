package picket.monitor

import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.ListOfMapsOutput
import io.lettuce.core.output.StatusOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
import picket.testkit.PlainClient
import picket.testkit.RedisNode

// The monitor's own queries of nodes and sentinels, on the test kit's shared client (`Inspect.acl(…)`).

/** Sends `ACL <args>` to [node]. */
fun PlainClient.acl(
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
fun <T> PlainClient.asUser(
    node: RedisNode,
    username: String,
    password: String,
    block: (RedisCommands<String, String>) -> T,
): T = on(node, password, username, block)

/** The names of [node]'s clients (`CLIENT LIST`). */
fun PlainClient.clientNames(node: RedisNode): List<String> = clients(node).mapNotNull { it["name"] }

/** `SENTINEL RESET masterName` on [sentinel]: it forgets the replicas and sentinels it cannot see now. */
fun PlainClient.resetSentinel(
    sentinel: RedisNode,
    masterName: String,
) {
    onSentinel(sentinel) { it.reset(masterName) }
}

/** How many other sentinels [sentinel] knows for [masterName]. */
fun PlainClient.otherSentinels(
    sentinel: RedisNode,
    masterName: String,
): Int =
    onSentinel(sentinel) { commands ->
        commands
            .dispatch(
                CommandType.SENTINEL,
                ListOfMapsOutput(StringCodec.UTF8),
                CommandArgs(StringCodec.UTF8).add("SENTINELS").add(masterName),
            ).size
    }

/** Every node's role as [sentinel] sees [masterName]'s group now, by id, sentinels included. */
fun PlainClient.sentinelView(
    sentinel: RedisNode,
    masterName: String,
): Map<String, Role> =
    onSentinel(sentinel) { commands ->
        val view = LinkedHashMap<String, Role>()
        val master = commands.master(masterName)
        view["${master.getValue("ip")}:${master.getValue("port")}"] = Role.MASTER
        commands
            .replicas(
                masterName,
            ).forEach { view.putIfAbsent("${it.getValue("ip")}:${it.getValue("port")}", Role.REPLICA) }
        view
    }
