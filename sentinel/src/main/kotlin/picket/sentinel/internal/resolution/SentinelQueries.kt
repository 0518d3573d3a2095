package picket.sentinel.internal.resolution

import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisURI
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.ListOfMapsOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
import io.lettuce.core.sentinel.api.async.RedisSentinelAsyncCommands
import kotlinx.coroutines.future.await
import picket.core.Address
import picket.core.SentinelGroup
import picket.core.internal.connections.Clients
import picket.core.internal.connections.bounded
import picket.core.internal.connections.connectedWithin
import picket.core.internal.connections.verifyMode

/** What one sentinel says about a master name. */
internal data class MasterAnswer(
    val address: Address,
    val flags: Set<String>,
    val configEpoch: Long?,
    /** The other sentinels that monitor it (`SENTINEL sentinels`): the answering one is not among them. */
    val otherSentinels: List<Address>,
)

/** A replica as one sentinel sees it, and why it is not usable, if it is not. */
internal data class ReplicaAnswer(
    val address: Address,
    val problem: String?,
)

/**
 * Questions to one sentinel on a short-lived connection, closed after the answer: in steady state the only
 * sentinel connections a process holds are the event subscriptions.
 */
internal class SentinelQueries(
    private val clients: Clients,
) {
    fun uri(
        sentinel: Address,
        group: SentinelGroup,
    ): RedisURI {
        val at = group.addressMapper.map(sentinel)
        val builder =
            RedisURI
                .builder()
                .withHost(at.host)
                .withPort(at.port)
                .withTimeout(group.commandTimeout)
                .withClientName(CLIENT_NAME)
        group.tls?.let { builder.withSsl(true).withVerifyPeer(verifyMode(it)) }
        val username = group.username
        val password = group.password
        when {
            username != null -> builder.withAuthentication(username, password.orEmpty())
            password != null -> builder.withPassword(password.toCharArray())
        }
        return builder.build()
    }

    /** The master [masterName] as [sentinel] sees it, or null if it does not monitor that name. */
    suspend fun master(
        sentinel: Address,
        group: SentinelGroup,
        masterName: String,
    ): MasterAnswer? =
        on(sentinel, group) { commands ->
            val fields =
                try {
                    commands.master(masterName).await()
                } catch (e: RedisCommandExecutionException) {
                    if (e.message.orEmpty().contains("No such master")) return@on null
                    throw e
                }
            val others = sentinelsOf(commands, masterName)
            MasterAnswer(
                address = Address(fields.getValue("ip"), fields.getValue("port").toInt()),
                flags =
                    fields["flags"]
                        .orEmpty()
                        .split(",")
                        .filter { it.isNotEmpty() }
                        .toSet(),
                configEpoch = fields["config-epoch"]?.toLongOrNull(),
                otherSentinels = others,
            )
        }

    /** The replicas of [masterName] as [sentinel] sees them, or null if it does not monitor that name. */
    suspend fun replicas(
        sentinel: Address,
        group: SentinelGroup,
        masterName: String,
    ): List<ReplicaAnswer>? =
        on(sentinel, group) { commands ->
            val replicas =
                try {
                    commands.replicas(masterName).await()
                } catch (e: RedisCommandExecutionException) {
                    if (e.message.orEmpty().contains("No such master")) return@on null
                    throw e
                }
            replicas.map { fields ->
                val flags = fields["flags"].orEmpty().split(",").toSet()
                val down = flags.intersect(setOf("s_down", "o_down", "disconnected"))
                val link = fields["master-link-status"]
                ReplicaAnswer(
                    Address(fields.getValue("ip"), fields.getValue("port").toInt()),
                    when {
                        down.isNotEmpty() -> "flagged ${down.sorted().joinToString(",")}"
                        link != "ok" -> "master-link-status $link"
                        else -> null
                    },
                )
            }
        }

    companion object {
        /** The client name of every sentinel connection Picket opens (visible in the sentinels' CLIENT LIST). */
        const val CLIENT_NAME = "picket"
    }

    private suspend fun sentinelsOf(
        commands: RedisSentinelAsyncCommands<String, String>,
        masterName: String,
    ): List<Address> {
        val args = CommandArgs(StringCodec.UTF8).add("SENTINELS").add(masterName)
        val sentinels = commands.dispatch(CommandType.SENTINEL, ListOfMapsOutput(StringCodec.UTF8), args).await()
        return sentinels.map { Address(it.getValue("ip"), it.getValue("port").toInt()) }
    }

    /** Runs [block] on a new connection to [sentinel] with [group]'s settings, closed after it. */
    suspend fun <T> on(
        sentinel: Address,
        group: SentinelGroup,
        block: suspend (RedisSentinelAsyncCommands<String, String>) -> T,
    ): T {
        val future =
            clients
                .of(group.keepAlive, group.tls)
                .connectSentinelAsync(StringCodec.UTF8, uri(sentinel, group))
                .toCompletableFuture()
        val connection =
            connectedWithin(future, group.connectTimeout, "connecting to sentinel $sentinel") { clients.close(it) }
        try {
            return block(connection.async())
        } finally {
            clients.close(connection)
        }
    }
}
