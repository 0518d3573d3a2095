package picket.sentinel.internal.resolution

import io.github.oshai.kotlinlogging.KotlinLogging
import picket.core.ConnSpec
import picket.core.internal.connections.DataConnections
import picket.core.internal.connections.bounded
import java.time.Duration

private val log = KotlinLogging.logger {}

/**
 * Picket's own checks on a group's data nodes, outside blocks: ROLE for the sweeps and for a promoted candidate, and
 * the shared connections they use, made with short timeouts.
 */
internal class NodeChecks(
    private val state: GroupState,
    private val connections: DataConnections,
) {
    /**
     * ROLE of [entry]'s node, within [SWEEP_TIMEOUT]: over any open connection to it, else over a new one with the
     * credentials it was verified with (or those a block of this group used last).
     */
    suspend fun roleOf(entry: MasterEntry): String {
        val (key, connection) =
            connections.anyOpen(entry.address) ?: run {
                // Never verified (a switch made it): the credentials and TLS a block of this group used last.
                val template =
                    (state.masters.values + state.lastEntries.values).firstNotNullOfOrNull { it.verifiedWith }
                val key =
                    entry.verifiedWith ?: template?.copy(address = entry.address) ?: DataConnections.Key(
                        entry.address,
                        null,
                        null,
                        0,
                        null,
                        SWEEP_TIMEOUT,
                        mapper = state.config.addressMapper,
                    )
                key to warm(key)
            }
        log.debug { "ROLE of ${entry.address} over $key" }
        return bounded(SWEEP_TIMEOUT, "ROLE on ${entry.address}") { roleOf(connection) }
    }

    /** ROLE of the node of [key], over the shared connection for [key]. */
    suspend fun roleAt(key: DataConnections.Key): String {
        val connection = warm(key)
        return bounded(SWEEP_TIMEOUT, "ROLE on ${key.address}") { roleOf(connection) }
    }

    /** The shared connection for [key], connecting if needed, with short timeouts. */
    suspend fun warm(key: DataConnections.Key) =
        connections.get(
            key,
            ConnSpec(
                host = key.address.host,
                port = key.address.port,
                username = key.username,
                password = key.password,
                database = key.database,
                clientName = key.clientName,
                connectTimeout = SWEEP_TIMEOUT,
                commandTimeout = key.commandTimeout,
            ),
        )

    private companion object {
        val SWEEP_TIMEOUT: Duration = Duration.ofSeconds(2)
    }
}
