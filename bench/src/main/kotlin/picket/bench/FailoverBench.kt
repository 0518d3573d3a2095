package picket.bench

import io.lettuce.core.ReadFrom
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.masterreplica.MasterReplica
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withContext
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.PicketEvent
import picket.sentinel.Picket
import picket.sentinel.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

enum class Fault(
    val label: String,
) {
    MANUAL("manual SENTINEL FAILOVER"),
    KILL("kill -9 of the master"),
}

/** One client's write loop through one failover. Times are milliseconds after the first `+switch-master`. */
class ClientRun(
    val client: String,
    val writes: Int,
    val acknowledged: Int,
    /** Writes whose caller got an error. */
    val errors: Int,
    val errorTypes: Map<String, Int>,
    /** Until the first write acknowledged after the switch whose key is on the new master; null if none. */
    val switchMs: Double?,
    /** Acknowledged writes that the old master executed (absent from the new master), relative to the switch. */
    val oldMaster: OldMasterWrites,
    /** Acknowledged (at any time) but absent from the new master after the run. */
    val lost: Int,
    /** The longest a single write took until its caller got an answer. */
    val slowestWriteMs: Double,
    /** When and how the client itself learnt of the switch (Picket's SwitchMaster event); null for Lettuce. */
    val clientEvent: ClientEvent?,
    /** Resolution rounds (asking the sentinels) the client made during the run; null for Lettuce. */
    val resolutionRounds: Long?,
    /** How long the write in flight when the loop stopped had been waiting (0 if none). */
    val pendingAtStopMs: Double,
    /** One message for each error class callers saw. */
    val sampleErrors: Map<String, String>,
)

/** Acknowledged writes absent from the new master after the run: executed by the old master, and lost. */
class OldMasterWrites(
    /** Acknowledged after the first `+switch-master`. */
    val afterSwitch: Int,
    /** Of those, issued after it too (the others were in flight when the switch was announced). */
    val issuedAfterSwitch: Int,
    /** When the last of them was acknowledged, ms after the switch (negative: before it); null if none. */
    val lastAckMs: Double?,
)

/** A client's own switch event: ms after the first `+switch-master`, and the sentinel acted on or "resolution". */
class ClientEvent(
    val ms: Double,
    val via: String,
)

class FailoverRun(
    val fault: Fault,
    val index: Int,
    /** From the fault (command sent, process killed) to the first `+switch-master`. */
    val faultToSwitchMs: Double,
    /** The sentinel that published first, and how much later the last one did. */
    val firstSentinel: String,
    val lastSwitchMs: Double,
    val newMaster: String,
    /** Until the topology had settled (Topology.awaitMaster), from the fault. */
    val settledMs: Double,
    /** How long the sentinels took to fall quiet after settling, and whether they did within the limit. */
    val quietMs: Double,
    val quiet: Boolean,
    val clients: List<ClientRun>,
    /** Anything unexpected about the run, or null. */
    val note: String?,
)

/**
 * Picket (default and durable), and Lettuce's MasterReplica side by side on one topology, each with its own write
 * loop, through manual failovers and kill -9s of the master.
 */
class FailoverBench(
    private val topology: Topology,
    private val inspect: Inspect,
    private val events: SentinelEvents,
    private val settings: Settings,
    private val progress: (String) -> Unit,
) {
    private val masterName = topology.masterNames.single()

    private class Client(
        val name: String,
        val tag: String,
        val write: suspend (String) -> Unit,
        /** [System.nanoTime] of each switch event, with the sentinel acted on (null: found by a resolution). */
        val switchSeen: List<Pair<Long, String?>>,
        val resolutions: () -> Long?,
        val close: () -> Unit,
    )

    suspend fun run(): List<FailoverRun> {
        val clients =
            listOf(
                picket(Report.PICKET_DEFAULT, "pd", durable = false),
                picket(Report.PICKET_DURABLE, "pw", durable = true),
                lettuce(),
            )
        try {
            // Every client has resolved and connected before the first run.
            clients.forEach { it.write("warmup:${it.tag}") }
            val runs = mutableListOf<FailoverRun>()
            val quiet = events.awaitQuiet(settings.quiet, settings.maxQuiet)
            progress("failover: sentinels quiet after ${quiet.first.toMillis()} ms")
            for (index in 1..settings.failoverRuns) {
                for (fault in settings.faults) {
                    val last = index == settings.failoverRuns && fault == settings.faults.last()
                    val run = runOnce(fault, index, clients, last)
                    runs += run
                    progress(describe(run))
                }
            }
            return runs
        } finally {
            clients.forEach { runCatching { it.close() } }
        }
    }

    private suspend fun runOnce(
        fault: Fault,
        index: Int,
        clients: List<Client>,
        last: Boolean,
    ): FailoverRun =
        coroutineScope {
            val old = blocking { topology.awaitMaster(masterName) }
            inspect.on(old) { it.flushall() }
            val roundsBefore = clients.map { it.resolutions() }
            val loops =
                clients.map { client ->
                    WriteLoop("${client.tag}:${fault.name.lowercase()}$index:", this) { client.write(it) }
                }
            delay(settings.beforeFault.toMillis())
            val faultAt = System.nanoTime()
            blocking { if (fault == Fault.MANUAL) topology.failover(masterName) else topology.kill(old) }
            val switch =
                events.awaitSwitch(masterName, faultAt, SWITCH_TIMEOUT)
                    ?: error("no +switch-master within ${SWITCH_TIMEOUT.seconds} s of the $fault (run $index)")
            delay(((switch.nanos + settings.afterSwitch.toNanos() - System.nanoTime()) / NANOS_PER_MS).coerceAtLeast(0))
            val writes = loops.map { it.stop() }
            if (fault == Fault.KILL) blocking { topology.restart(old) }
            val master = blocking { topology.awaitMaster(masterName, notEqualTo = old, timeout = SETTLE_TIMEOUT) }
            val settled = System.nanoTime()
            val announced = switch.message.split(" ").let { "${it[3]}:${it[4]}" }
            val note =
                if (announced == master.address) null else "+switch-master named $announced, settled on $master"
            val results =
                clients.indices.map { i ->
                    val rounds = clients[i].resolutions()?.let { it - (roundsBefore[i] ?: 0) }
                    analyse(clients[i], loops[i], writes[i], present(master, writes[i]), switch.nanos, rounds)
                }
            // The next run must not start while the sentinels still react to this one; the last needs no wait.
            val (quietFor, quiet) =
                if (last) Duration.ZERO to true else events.awaitQuiet(settings.quiet, settings.maxQuiet)
            val switches = events.switches(masterName, faultAt)
            FailoverRun(
                fault = fault,
                index = index,
                faultToSwitchMs = millis(switch.nanos - faultAt),
                firstSentinel = switch.sentinel,
                lastSwitchMs = millis(switches.last().nanos - switch.nanos),
                newMaster = master.name,
                settledMs = millis(settled - faultAt),
                quietMs = quietFor.toNanos() / NANOS_PER_MS.toDouble(),
                quiet = quiet,
                clients = results,
                note = note,
            )
        }

    private fun analyse(
        client: Client,
        loop: WriteLoop,
        writes: List<WriteLoop.Write>,
        present: BooleanArray,
        switch: Long,
        resolutionRounds: Long?,
    ): ClientRun {
        val acknowledged = writes.indices.filter { writes[it].acknowledged }
        val (onNew, onOld) = acknowledged.partition { present[it] }
        val first = onNew.map { writes[it].done - switch }.filter { it > 0 }.minOrNull()
        val oldAfter = onOld.map { writes[it] }.filter { it.done > switch }
        val seen = client.switchSeen.firstOrNull { it.first >= switch - SWITCH_EARLY_NS }
        return ClientRun(
            client = client.name,
            writes = writes.size,
            acknowledged = writes.count { it.acknowledged },
            errors = writes.count { !it.acknowledged },
            errorTypes = writes.mapNotNull { it.error }.groupingBy { it }.eachCount(),
            switchMs = first?.let { millis(it) },
            oldMaster =
                OldMasterWrites(
                    afterSwitch = oldAfter.size,
                    issuedAfterSwitch = oldAfter.count { it.issued > switch },
                    lastAckMs = onOld.maxOfOrNull { writes[it].done }?.let { millis(it - switch) },
                ),
            lost = onOld.size,
            slowestWriteMs = millis(writes.maxOfOrNull { it.done - it.issued } ?: 0),
            clientEvent = seen?.let { ClientEvent(millis(it.first - switch), it.second ?: "resolution") },
            resolutionRounds = resolutionRounds,
            pendingAtStopMs = millis(loop.pendingAtStop),
            sampleErrors = loop.sampleErrors.toSortedMap(),
        )
    }

    /** Which of [writes] have their key on [master], read in chunks of MGET. */
    private fun present(
        master: RedisNode,
        writes: List<WriteLoop.Write>,
    ): BooleanArray {
        val result = BooleanArray(writes.size)
        inspect.on(master) { redis ->
            writes.indices.chunked(MGET_CHUNK).forEach { chunk ->
                // One copy of at most MGET_CHUNK keys per call: of no account next to the round trip.
                @Suppress("SpreadOperator")
                val values = redis.mget(*chunk.map { writes[it].key }.toTypedArray())
                chunk.zip(values).forEach { (i, value) -> result[i] = value.hasValue() }
            }
        }
        return result
    }

    private fun sentinelName(address: Address): String = topology.nodeAt(address.toString())?.name ?: address.toString()

    private fun group(): SentinelGroup = SentinelGroup(topology.sentinels.map { Address(it.host, it.port) })

    private fun picket(
        name: String,
        tag: String,
        durable: Boolean,
    ): Client {
        // Separate instances: a durable block's WAIT holds its connection, which must not slow the default loop.
        val picket = Picket()
        picket.setSentinelGroups("bench" to group())
        val seen = CopyOnWriteArrayList<Pair<Long, String?>>()
        picket.registerListener { event ->
            if (event is PicketEvent.SwitchMaster) seen += System.nanoTime() to event.sentinel?.let(::sentinelName)
        }
        val base = ConnSpec(sentinelGroup = "bench", masterName = masterName, commandTimeout = settings.commandTimeout)
        val spec = if (durable) base.copy(durability = Durability.allReplicas(DURABLE_TIMEOUT)) else base
        return Client(
            name,
            tag,
            { key -> picket.withConn(spec) { set(key, key) } },
            seen,
            { picket.status("bench").resolutionRounds },
            picket::close,
        )
    }

    private fun lettuce(): Client {
        val client = RedisClient.create()
        val uri =
            RedisURI.Builder
                .sentinel(topology.sentinels[0].host, topology.sentinels[0].port, masterName)
                .apply { topology.sentinels.drop(1).forEach { withSentinel(it.host, it.port) } }
                .withTimeout(settings.commandTimeout)
                .build()
        val connection = MasterReplica.connect(client, StringCodec.UTF8, uri)
        connection.readFrom = ReadFrom.UPSTREAM
        val commands = connection.async()
        val close = {
            connection.close()
            client.shutdown()
        }
        return Client(Report.LETTUCE_MR, "lm", { key -> commands.set(key, key).await() }, emptyList(), { null }, close)
    }

    private fun describe(run: FailoverRun): String {
        val clients =
            run.clients.joinToString("; ") {
                val pending =
                    if (it.pendingAtStopMs >= 1) ", a write pending for ${it.pendingAtStopMs.toLong()} ms" else ""
                "${it.client}: switch ${it.switchMs?.let { ms -> "${ms.toLong()} ms" } ?: "not seen"}, " +
                    "old master ${it.oldMaster.afterSwitch}, lost ${it.lost}, errors ${it.errors}$pending"
            }
        return "failover ${run.fault.name.lowercase()} #${run.index}: +switch-master " +
            "${run.faultToSwitchMs.toLong()} ms after the fault (${run.firstSentinel} first), settled after " +
            "${run.settledMs.toLong()} ms, quiet after ${run.quietMs.toLong()} ms more" +
            (if (run.quiet) "" else " (NOT quiet)") + (run.note?.let { " ($it)" } ?: "") + "; " + clients
    }

    private companion object {
        val SWITCH_TIMEOUT: Duration = Duration.ofSeconds(60)
        val SETTLE_TIMEOUT: Duration = Duration.ofSeconds(90)
        val DURABLE_TIMEOUT: Duration = Duration.ofSeconds(1)
        const val MGET_CHUNK = 1_000
        const val NANOS_PER_MS = 1_000_000L

        /** Picket may act on a sentinel's announcement a hair before the benchmark's own subscription sees it. */
        const val SWITCH_EARLY_NS = 500_000_000L
    }
}

internal fun millis(nanos: Long): Double = nanos / 1_000_000.0

internal suspend fun <T> blocking(block: () -> T): T = withContext(Dispatchers.IO) { block() }
