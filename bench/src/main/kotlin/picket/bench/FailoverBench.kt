package picket.bench

import io.lettuce.core.ReadFrom
import io.lettuce.core.RedisClient
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
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import picket.testkit.WriteLoop
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * Picket (default, i.e. parking writes during a failover; without parking; durable) and Lettuce's MasterReplica side
 * by side on one topology, each with its own instance and write loop, through manual failovers and kill -9s of the
 * master; and, for Java callers (issue 22), Picket's blocking path and Jedis's JedisSentinelPool, each write made by
 * a blocked thread.
 */
class FailoverBench(
    context: BenchContext,
) : TopologyBench(context) {
    private class Client(
        val name: String,
        val tag: String,
        val write: suspend (String) -> Unit,
        /** [System.nanoTime] of each switch event, with the sentinel acted on (null: found by a resolution). */
        val switchSeen: List<Pair<Long, String?>>,
        /** [System.nanoTime] of each FailoverEnded event, with the event. */
        val parkingsSeen: List<Pair<Long, PicketEvent.FailoverEnded>>,
        /** Resolution rounds so far; null for Lettuce. */
        val resolutions: () -> Long?,
        val close: () -> Unit,
    )

    /** [System.nanoTime] when the fault was injected and when the benchmark saw the first `+switch-master`. */
    private class Clock(
        val faultAt: Long,
        val switch: Long,
    )

    suspend fun run(): List<FailoverRun> {
        val clients =
            listOf(
                picket(Report.PICKET_DEFAULT, "pd", group(), durable = false),
                picket(Report.PICKET_NO_PARKING, "pn", group().parking(false), durable = false),
                picket(Report.PICKET_DURABLE, "pw", group(), durable = true),
                lettuce(),
                picket(JavaPathBench.PICKET_JAVA, "pj", group(), durable = false, java = true),
                jedis(),
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
            // Topology.kill returns once the process has exited: no write acknowledged later came from the old master.
            val faultDone = System.nanoTime()
            val switch =
                events.awaitSwitch(masterName, faultAt, SWITCH_TIMEOUT)
                    ?: error("no +switch-master within ${SWITCH_TIMEOUT.seconds} s of the $fault (run $index)")
            delay(((switch.nanos + settings.afterSwitch.toNanos() - System.nanoTime()) / NANOS_PER_MS).coerceAtLeast(0))
            val writes = loops.map { it.stop() }
            val stopped = System.nanoTime()
            // Read before awaitMaster, which waits for the old master's conversion (about 10 s after the command):
            // converted, it resyncs from the new master and holds the new master's writes too.
            val onOld = if (fault == Fault.MANUAL) blocking { oldMasterHolds(old, writes) } else null
            if (fault == Fault.KILL) blocking { topology.restart(old) }
            val master = blocking { topology.awaitMaster(masterName, notEqualTo = old, timeout = SETTLE_TIMEOUT) }
            val settled = System.nanoTime()
            val announced = switch.message.split(" ").let { "${it[3]}:${it[4]}" }
            val directKnown = fault == Fault.KILL || onOld != null
            val clock = Clock(faultAt, switch.nanos)
            val results =
                clients.indices.map { i ->
                    val onNew = present(master, writes[i])
                    val direct = executedByNew(fault, writes[i], onNew, onOld?.get(i), faultDone)
                    val rounds = clients[i].resolutions()?.let { it - (roundsBefore[i] ?: 0) }
                    analyse(clients[i], loops[i], writes[i], onNew, direct, clock, rounds)
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
                stoppedMs = millis(stopped - faultAt),
                directKnown = directKnown,
                settledMs = millis(settled - faultAt),
                quietMs = quietFor.toNanos() / NANOS_PER_MS.toDouble(),
                quiet = quiet,
                clients = results,
                note = note(announced, master, directKnown),
            )
        }

    /**
     * Which of [writes] the new master executed itself, not got by replication from the old master: after a kill -9,
     * those on it acknowledged after the old master's process had exited ([faultDone]); after a manual failover,
     * those on it that the old master did not hold ([onOld]); null if [onOld] could not be read in time.
     */
    private fun executedByNew(
        fault: Fault,
        writes: List<WriteLoop.Write>,
        onNew: BooleanArray,
        onOld: BooleanArray?,
        faultDone: Long,
    ): BooleanArray? =
        when {
            fault == Fault.KILL -> BooleanArray(onNew.size) { onNew[it] && writes[it].doneNanos > faultDone }
            onOld != null -> BooleanArray(onNew.size) { onNew[it] && !onOld[it] }
            else -> null
        }

    private fun note(
        announced: String,
        master: RedisNode,
        directKnown: Boolean,
    ): String? =
        listOfNotNull(
            if (announced == master.address) null else "+switch-master named $announced, settled on $master",
            if (directKnown) {
                null
            } else {
                "the old master was no longer master when its keys were read after the loops stopped, so writes the " +
                    "new master executed itself could not be told apart: the first write on the new master is the " +
                    "first acknowledged after +switch-master whose key is there, and the time from the fault is not " +
                    "measured"
            },
        ).joinToString("; ").ifEmpty { null }

    private fun analyse(
        client: Client,
        loop: WriteLoop,
        writes: List<WriteLoop.Write>,
        onNew: BooleanArray,
        direct: BooleanArray?,
        clock: Clock,
        resolutionRounds: Long?,
    ): ClientRun {
        val switch = clock.switch
        val acknowledged = writes.indices.filter { writes[it].acknowledged }
        val onOld = acknowledged.filterNot { onNew[it] }
        val oldAfter = onOld.map { writes[it] }.filter { it.doneNanos > switch }
        // The first acknowledged write the new master executed itself. Without that distinction (the old master
        // was read too late), the first acknowledged after the switch whose key is on the new master: earlier ones
        // may be there by replication from the old master, before the promotion.
        val firstDirect = direct?.let { d -> acknowledged.filter { d[it] }.minOfOrNull { writes[it].doneNanos } }
        val first =
            if (direct != null) {
                firstDirect?.let { it - switch }
            } else {
                acknowledged
                    .filter { onNew[it] }
                    .map { writes[it].doneNanos - switch }
                    .filter { it > 0 }
                    .minOrNull()
            }
        return ClientRun(
            client = client.name,
            writes = writes.size,
            acknowledged = acknowledged.size,
            errors = writes.size - acknowledged.size,
            errorTypes = WriteErrors.counts(writes),
            faultToNewMs = firstDirect?.let { millis(it - clock.faultAt) },
            switchMs = first?.let { millis(it) },
            oldMaster =
                OldMasterWrites(
                    afterSwitch = oldAfter.size,
                    issuedAfterSwitch = oldAfter.count { it.issuedNanos > switch },
                    lastAckMs = onOld.maxOfOrNull { writes[it].doneNanos }?.let { millis(it - switch) },
                ),
            lost = onOld.size,
            slowestWriteMs = millis(writes.maxOfOrNull { it.doneNanos - it.issuedNanos } ?: 0),
            picket = resolutionRounds?.let { view(client, clock, it) },
            pendingAtStopMs = millis(loop.pendingAtStop),
            sampleErrors = WriteErrors.samples(writes),
        )
    }

    /** What a Picket client reported about this run: its events after the fault (it may act before +switch-master). */
    private fun view(
        client: Client,
        clock: Clock,
        resolutionRounds: Long,
    ): PicketView =
        PicketView(
            switchEvent =
                client.switchSeen
                    .firstOrNull { it.first >= clock.faultAt }
                    ?.let { ClientEvent(millis(it.first - clock.switch), it.second ?: "resolution") },
            resolutionRounds = resolutionRounds,
            parkings =
                client.parkingsSeen
                    .filter { it.first >= clock.faultAt }
                    .map { (at, event) ->
                        Parked(
                            endedMs = millis(at - clock.faultAt),
                            parkedForMs = millis(event.parkedFor.toNanos()),
                            blocks = event.parkedBlocks,
                            outcome = event.outcome.name,
                        )
                    },
        )

    /**
     * Which of each loop's [writes] the old master holds, if it is still master once they are read: not yet
     * converted, it holds exactly what it executed (its own writes, and those before the promotion that the new
     * master also got by replication). Null if it was converted meanwhile.
     */
    private fun oldMasterHolds(
        old: RedisNode,
        writes: List<List<WriteLoop.Write>>,
    ): List<BooleanArray>? {
        val held = writes.map { present(old, it) }
        val role = inspect.on(old) { it.role().firstOrNull() }
        return if (role == "master") held else null
    }

    /** Which of [writes] have their key on [node], read in chunks of MGET. */
    private fun present(
        node: RedisNode,
        writes: List<WriteLoop.Write>,
    ): BooleanArray {
        val result = BooleanArray(writes.size)
        inspect.on(node) { redis ->
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
        group: SentinelGroup,
        durable: Boolean,
        java: Boolean = false,
    ): Client {
        // Separate instances: a durable block's WAIT holds its connection, which must not slow the other loops, and
        // parking is a setting of the sentinel group, which one instance has once.
        val picket = Picket()
        picket.setSentinelGroups("bench" to group)
        val seen = CopyOnWriteArrayList<Pair<Long, String?>>()
        val parked = CopyOnWriteArrayList<Pair<Long, PicketEvent.FailoverEnded>>()
        picket.registerListener { event ->
            when (event) {
                is PicketEvent.SwitchMaster -> seen += System.nanoTime() to event.sentinel?.let(::sentinelName)
                is PicketEvent.FailoverEnded -> parked += System.nanoTime() to event
                else -> Unit
            }
        }
        val base = ConnSpec(sentinelGroup = "bench", masterName = masterName, commandTimeout = settings.commandTimeout)
        val spec = if (durable) base.copy(durability = Durability.allReplicas(DURABLE_TIMEOUT)) else base
        return Client(
            name,
            tag,
            if (java) {
                { key -> blocking { picketJava(picket, spec) { it.set(key, key) } } }
            } else {
                { key -> picket.withConn(spec) { set(key, key) } }
            },
            seen,
            parked,
            { picket.status("bench").resolutionRounds },
            picket::close,
        )
    }

    private fun lettuce(): Client {
        val client = RedisClient.create()
        val uri = sentinelUri(topology.sentinels.map { Address(it.host, it.port) }, masterName, settings.commandTimeout)
        val connection = MasterReplica.connect(client, StringCodec.UTF8, uri)
        connection.readFrom = ReadFrom.UPSTREAM
        val commands = connection.async()
        val close = {
            connection.close()
            client.shutdown()
        }
        return Client(
            Report.LETTUCE_MR,
            "lm",
            { key -> commands.set(key, key).await() },
            emptyList(),
            emptyList(),
            { null },
            close,
        )
    }

    /** Jedis's JedisSentinelPool, one connection for the one loop, the same timeout as the others. */
    private fun jedis(): Client {
        val sentinels = topology.sentinels.map { Address(it.host, it.port) }
        val jedis = JedisClient(sentinels, masterName, poolSize = 1, timeout = settings.commandTimeout)
        return Client(
            JavaPathBench.JEDIS,
            "jd",
            { key -> blocking { jedis.set(key, key) } },
            emptyList(),
            emptyList(),
            { null },
            jedis::close,
        )
    }

    private fun describe(run: FailoverRun): String =
        "failover ${run.fault.name.lowercase()} #${run.index}: +switch-master " +
            "${run.faultToSwitchMs.toLong()} ms after the fault (${run.firstSentinel} first), settled after " +
            "${run.settledMs.toLong()} ms, quiet after ${run.quietMs.toLong()} ms more" +
            (if (run.quiet) "" else " (NOT quiet)") + (run.note?.let { " ($it)" } ?: "") + "; " +
            run.clients.joinToString("; ") { describe(it) }

    private fun describe(c: ClientRun): String {
        val pending = if (c.pendingAtStopMs >= 1) ", a write pending for ${c.pendingAtStopMs.toLong()} ms" else ""
        val parked =
            c.picket?.parkings?.joinToString("") {
                ", parked ${it.blocks} blocks for ${it.parkedForMs.toLong()} ms (${it.outcome})"
            } ?: ""
        return "${c.client}: first write executed by the new master " +
            "${c.faultToNewMs?.let { "${it.toLong()} ms after the fault" } ?: "not seen"}, " +
            "${c.switchMs?.let { "${it.toLong()} ms after +switch-master" } ?: "not seen"}; " +
            "old master ${c.oldMaster.afterSwitch}, lost ${c.lost}, errors ${c.errors}$pending$parked"
    }

    private companion object {
        val SWITCH_TIMEOUT: Duration = Duration.ofSeconds(60)
        val SETTLE_TIMEOUT: Duration = Duration.ofSeconds(90)
        val DURABLE_TIMEOUT: Duration = Duration.ofSeconds(1)
        const val MGET_CHUNK = 1_000
        const val NANOS_PER_MS = 1_000_000L
    }
}

internal fun millis(nanos: Long): Double = nanos / 1_000_000.0

internal suspend fun <T> blocking(block: () -> T): T = withContext(Dispatchers.IO) { block() }
