package picket.bench

import io.lettuce.core.ReadFrom
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.masterreplica.MasterReplica
import kotlinx.coroutines.delay
import picket.core.Address
import picket.core.Balancers
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration

/** The sentinel connections one client configuration held in steady state, counted on each sentinel. */
class ConnectionsPhase(
    val label: String,
    /** What the client had open while counted. */
    val setup: String,
    /** Connections that were not there before the phase, per sentinel (in the topology's order). */
    val perSentinel: List<Int>,
    /** Of those, the ones named `picket`. */
    val namedPicket: List<Int>,
    /** The client names seen on the new connections, with how many each ("" for none). */
    val names: Map<String, Int>,
) {
    val total: Int get() = perSentinel.sum()
}

/**
 * Counts sentinel connections per process in phases: before each phase every sentinel's `CLIENT LIST` is taken,
 * the client is set up and used, and after [STEADY] the connections that were not there before are its own. The
 * client is closed and its connections are seen to go before the next phase.
 */
class ConnectionsBench(
    context: BenchContext,
) : TopologyBench(context) {
    private class Connection(
        val id: String,
        val name: String,
    )

    suspend fun run(): List<ConnectionsPhase> =
        listOf(
            phase("Picket, default mode", picketSetup(subscribeToAll = true)) { picketClient(subscribeToAll = true) },
            phase("Picket, economy mode", picketSetup(subscribeToAll = false)) { picketClient(subscribeToAll = false) },
            phase("Lettuce MasterReplica", "1 connection, ReadFrom.UPSTREAM") { lettuceClient(1) },
            phase("Lettuce MasterReplica", "${settings.lettuceConnections} connections, ReadFrom.UPSTREAM") {
                lettuceClient(settings.lettuceConnections)
            },
        ).onEach { progress("sentinel connections: ${it.label} (${it.setup}): ${it.perSentinel} ${it.names}") }

    private fun picketSetup(subscribeToAll: Boolean): String =
        "1 instance, ${if (subscribeToAll) "subscribeToAll" else "economy: subscribeToAll = false"}, " +
            "${settings.connectionSpecs} master specs + ${settings.connectionSpecs} replica specs, " +
            "each its own data connection"

    private suspend fun phase(
        label: String,
        setup: String,
        open: suspend () -> AutoCloseable,
    ): ConnectionsPhase {
        val before = topology.sentinels.map { sentinel -> clients(sentinel).map { it.id }.toSet() }
        val client = open()
        val fresh =
            try {
                delay(STEADY.toMillis())
                topology.sentinels.zip(before).map { (sentinel, old) -> clients(sentinel).filter { it.id !in old } }
            } finally {
                client.close()
            }
        awaitGone(fresh)
        return ConnectionsPhase(
            label = label,
            setup = setup,
            perSentinel = fresh.map { it.size },
            namedPicket = fresh.map { list -> list.count { it.name == "picket" } },
            names =
                fresh
                    .flatten()
                    .groupingBy { it.name }
                    .eachCount()
                    .toSortedMap(),
        )
    }

    /** Waits until the connections of a closed client are gone, so that the next phase starts clean. */
    private suspend fun awaitGone(fresh: List<List<Connection>>) {
        val deadline = System.nanoTime() + GONE_TIMEOUT.toNanos()
        while (System.nanoTime() < deadline) {
            val left =
                topology.sentinels.zip(fresh).sumOf { (sentinel, mine) ->
                    val ids = mine.map { it.id }.toSet()
                    clients(sentinel).count { it.id in ids }
                }
            if (left == 0) return
            delay(POLL.toMillis())
        }
        progress("sentinel connections: some connections were still open ${GONE_TIMEOUT.seconds} s after close")
    }

    /** The sentinel's clients, except the connection that asks and the benchmark's own event subscriptions. */
    private fun clients(sentinel: RedisNode): List<Connection> =
        inspect
            .on(sentinel) { it.clientList() }
            .lines()
            .filter { it.isNotBlank() }
            .map { line ->
                val fields = line.split(" ").associate { it.substringBefore("=") to it.substringAfter("=", "") }
                Connection(fields["id"].orEmpty(), fields["name"].orEmpty())
            }.filter { it.name != Inspect.CLIENT_NAME && it.name != SentinelEvents.CLIENT_NAME }

    private suspend fun picketClient(subscribeToAll: Boolean): AutoCloseable {
        val picket = Picket()
        try {
            val group =
                SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }, subscribeToAll = subscribeToAll)
            picket.setSentinelGroups("bench" to group)
            val base = ConnSpec(sentinelGroup = "bench", masterName = masterName)
            repeat(settings.connectionSpecs) { i ->
                val spec = base.copy(clientName = "bench-$i")
                picket.withConn(spec) { set("connections:$i", "$i") }
                picket.withConn(spec.preferReplica(Balancers.random)) { get("connections:$i") }
            }
            return picket
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            picket.close()
            throw e
        }
    }

    private fun lettuceClient(connections: Int): AutoCloseable {
        val client = RedisClient.create()
        val uri =
            RedisURI.Builder
                .sentinel(topology.sentinels[0].host, topology.sentinels[0].port, masterName)
                .apply { topology.sentinels.drop(1).forEach { withSentinel(it.host, it.port) } }
                // Lettuce applies the name to data connections; whether its sentinel connections carry it is
                // what CLIENT LIST shows.
                .withClientName("lettuce-mr")
                .build()
        val opened =
            (0 until connections).map { i ->
                MasterReplica.connect(client, StringCodec.UTF8, uri).also {
                    it.readFrom = ReadFrom.UPSTREAM
                    it.sync().set("connections:lettuce:$i", "$i")
                }
            }
        return AutoCloseable {
            opened.forEach { it.close() }
            client.shutdown()
        }
    }

    private companion object {
        /** Long enough for the connections used to resolve to be closed, and the subscriptions to be up. */
        val STEADY: Duration = Duration.ofMillis(1_500)
        val GONE_TIMEOUT: Duration = Duration.ofSeconds(10)
        val POLL: Duration = Duration.ofMillis(100)
    }
}
