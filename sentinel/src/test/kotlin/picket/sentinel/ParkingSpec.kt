package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.AclSetuserArgs
import io.lettuce.core.protocol.CommandType
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import kotlinx.coroutines.coroutineScope
import picket.core.ConnSpec
import picket.core.FailoverInProgressException
import picket.core.FailoverOutcome
import picket.core.Picket
import picket.core.PicketEvent
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisNode
import picket.testkit.TopologyExtension
import java.time.Duration
import java.time.Instant
import java.util.concurrent.TimeUnit

/**
 * Write parking: from the failover leader's `+selected-slave` to the confirmed switch, new master blocks wait
 * instead of writing to a master that is about to be demoted; an aborted or unconfirmed failover releases them.
 */
class ParkingSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { masterNames = listOf("orders", "frozen") }
        val picket = Picket()
        val economy = Picket()
        afterSpec {
            picket.close()
            economy.close()
        }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        economy.setSentinelGroups("main" to topology.sentinelGroup().economy())
        val orders = ConnSpec(sentinelGroup = "main", masterName = "orders", commandTimeout = Duration.ofSeconds(2))
        val log = EventLog(picket)
        val economyLog = EventLog(economy)
        val registry = SimpleMeterRegistry()
        val metrics = PicketMetrics(picket, registry)
        afterSpec { metrics.close() }

        /** Which of [keys] [node] holds. */
        fun held(
            node: RedisNode,
            keys: List<String>,
        ): Set<String> =
            keys
                .chunked(500)
                .flatMap { chunk ->
                    Inspect.on(node) { redis -> redis.mget(*chunk.toTypedArray()) }.filter { it.hasValue() }.map {
                        it.key
                    }
                }.toSet()

        test("across 5 manual failovers under a write loop, parked writes land on the new master and none is lost") {
            economy.withConn(orders) { set("economy", "1") } shouldBe "OK"
            val figures = mutableListOf<String>()
            var lastEpoch = 0L
            var acknowledgedBlocks = 0L
            var parkedTotal = Duration.ZERO
            var slowestFirstWrite = Duration.ZERO
            repeat(5) { round ->
                val old = topology.awaitMaster("orders")
                picket.withConn(orders) { flushdb() }
                log.clear()
                coroutineScope {
                    val loop = WriteLoop(picket, orders, this)
                    within(5) { loop.writes.count { it.acknowledged } shouldBeGreaterThan 100 }
                    val commanded = Instant.now()
                    topology.failover("orders")
                    val started = log.await<PicketEvent.FailoverStarted> { it.masterName == "orders" }
                    val ended = log.await<PicketEvent.FailoverEnded> { it.masterName == "orders" }
                    val switch = log.await<PicketEvent.SwitchMaster> { it.masterName == "orders" }
                    within(10) {
                        loop.writes.count { it.acknowledged && it.issued.isAfter(switch.at) } shouldBeGreaterThan 300
                    }
                    loop.stop()
                    val promoted = topology.nodeAt(switch.newAddress.toString())!!
                    // Before the old master is converted (about ten seconds after the command), see where each
                    // acknowledged write is.
                    val acknowledged = loop.writes.filter { it.acknowledged }
                    acknowledgedBlocks += acknowledged.size
                    val keys = acknowledged.map { "w:${it.n}" }
                    val onOld = held(old, keys)
                    val onNew = held(promoted, keys)
                    val lost = keys.filter { it !in onNew }
                    val direct = acknowledged.filter { "w:${it.n}" !in onOld && "w:${it.n}" in onNew }
                    val firstOnNew =
                        direct.minOf { it.issued.plusMillis(it.millis) }.let { Duration.between(commanded, it) }
                    val oldAfterSwitch = acknowledged.filter { it.issued.isAfter(switch.at) && "w:${it.n}" in onOld }
                    val serving = log.await<PicketEvent.NewMasterServing> { it.masterName == "orders" }
                    figures +=
                        "failover ${round + 1}: ${acknowledged.size} acknowledged, ${lost.size} lost, " +
                        "first write on the new master ${firstOnNew.toMillis()} ms after SENTINEL FAILOVER, " +
                        "${ended.parkedBlocks} blocks parked for ${ended.parkedFor.toMillis()} ms, " +
                        "first success ${serving.sinceFailoverStart?.toMillis()} ms after +selected-slave and " +
                        "${serving.sinceSwitch.toMillis()} ms after the switch, " +
                        "errors ${loop.writes.mapNotNull { it.error }.map { it::class.simpleName }}"
                    println(figures.last())
                    lost.forEach { key ->
                        val w = acknowledged.first { "w:${it.n}" == key }
                        println(
                            "LOST $key issued ${w.issued} took ${w.millis} ms onOld=${key in onOld} " +
                                "started ${started.at} switch ${switch.at} ended ${ended.at}",
                        )
                    }

                    // Epochs: the failover's, announced by its leader, is the new master's config-epoch.
                    val epoch = started.epoch.shouldNotBeNull()
                    epoch shouldBeGreaterThan lastEpoch
                    switch.configEpoch shouldBe epoch
                    picket.status("main").epochs["orders"] shouldBe epoch
                    Inspect
                        .onSentinel(topology.sentinels.first()) { it.master("orders") }
                        .getValue("config-epoch") shouldBe "$epoch"
                    lastEpoch = epoch
                    started.oldAddress shouldBe old.asAddress
                    started.candidate shouldBe switch.newAddress
                    ended.outcome shouldBe FailoverOutcome.SWITCHED
                    ended.newAddress shouldBe switch.newAddress
                    ended.parkedBlocks shouldBeGreaterThan 0
                    loop.writes.mapNotNull { it.error }.shouldBeEmpty()
                    oldAfterSwitch.shouldBeEmpty()
                    // The first block that succeeded on the new master, timed from the failover's start and the switch.
                    serving.address shouldBe switch.newAddress
                    serving.sinceFailoverStart.shouldNotBeNull() shouldBeGreaterThan serving.sinceSwitch
                    serving.sinceSwitch shouldBeLessThan Duration.ofMillis(500)
                    // Loss detection agrees: the new master has every byte the old one had acknowledged.
                    log.ofType<PicketEvent.DataLossSuspected>().shouldBeEmpty()
                    // Not zero by construction: a block that took its connection just before +selected-slave can
                    // still be answered by the old master after the replica's promotion. Measured: 0 in 5 of 5.
                    lost.size shouldBeLessThanOrEqual 2
                    // Sentinel selects a replica ~0.1-0.2 s after the command and sees it promoted at its next INFO
                    // to it (every second here, so anywhere in 0-1 s: measured 79-1,052 ms parked); Picket's own
                    // share after the switch is bounded above (under 500 ms). 2.5 s leaves room for a loaded machine
                    // without letting a missed switch (Sentinel's 10 s failover timeout) pass.
                    firstOnNew shouldBeLessThan Duration.ofMillis(2_500)
                    ended.parkedFor shouldBeGreaterThan Duration.ZERO
                    parkedTotal += ended.parkedFor
                    slowestFirstWrite = maxOf(slowestFirstWrite, serving.sinceFailoverStart.shouldNotBeNull())
                }
            }
            // The same failovers as Micrometer meters.
            val orderTags = arrayOf("group", "main", "masterName", "orders")
            registry
                .get("picket.switches")
                .tags(*orderTags)
                .counter()
                .count() shouldBe 5.0
            val failovers = registry.get("picket.failovers").tags(*orderTags, "outcome", "SWITCHED").timer()
            failovers.count() shouldBe 5L
            // The meters agree with the events they were recorded from (the sum depends on where each failover
            // fell in Sentinel's INFO period, so only agreement is asserted).
            failovers.totalTime(TimeUnit.MILLISECONDS) shouldBe (parkedTotal.toNanos() / 1e6 plusOrMinus 0.01)
            registry
                .get("picket.parked.blocks")
                .tags(*orderTags)
                .counter()
                .count() shouldBeGreaterThan 4.0
            registry
                .get("picket.config.epoch")
                .tags(*orderTags)
                .gauge()
                .value() shouldBe lastEpoch.toDouble()
            registry
                .get("picket.resolutions")
                .tags(*orderTags)
                .counter()
                .count() shouldBeGreaterThan 0.0
            registry
                .get("picket.switch.first.write")
                .tags(*orderTags)
                .timer()
                .count() shouldBe 5L
            val firstWrites = registry.get("picket.failover.first.write").tags(*orderTags).timer()
            firstWrites.count() shouldBe 5L
            firstWrites.max(TimeUnit.MILLISECONDS) shouldBe (slowestFirstWrite.toNanos() / 1e6 plusOrMinus 0.01)
            // A switch replaces the cached master without emptying the cache: every block found it there.
            val hits = picket.status("main").cacheHits.getValue("orders")
            hits shouldBeGreaterThanOrEqual acknowledgedBlocks
            registry
                .get("picket.cache.hits")
                .tags(*orderTags)
                .functionCounter()
                .count() shouldBeGreaterThanOrEqual hits.toDouble()
            // Economy mode hears at most one sentinel: parking is off there, and says nothing.
            economyLog.ofType<PicketEvent.FailoverStarted>().shouldBeEmpty()
            economy.withConn(orders) { role().first() } shouldBe "master"
        }

        test("a failover that cannot complete releases parked blocks: by timing out, or when Sentinel aborts it") {
            // A second instance waits longer than the failover timeout (10 s), so that it sees Sentinel's abort.
            val patient = Picket()
            try {
                patient.setSentinelGroups(
                    "main" to topology.sentinelGroup().parking(true, Duration.ofSeconds(15)),
                )
                val frozen = orders.copy(masterName = "frozen")
                val patientSpec = frozen.copy(commandTimeout = Duration.ofSeconds(15))
                val patientLog = EventLog(patient)
                val master = topology.awaitMaster("frozen")
                val replicas = topology.dataNodes("frozen") - master
                picket.withConn(frozen) { set("before", "1") } shouldBe "OK"
                patient.withConn(patientSpec) { get("before") } shouldBe "1"
                // The replicas refuse REPLICAOF: Sentinel selects one, fails to promote it, and aborts after its
                // failover timeout.
                replicas.forEach { node -> Inspect.on(node) { it.aclSetuser("default", aclRefusing()) } }
                log.clear()
                try {
                    coroutineScope {
                        val loop = WriteLoop(picket, frozen, this)
                        val patientLoop = WriteLoop(patient, patientSpec, this, prefix = "p:")
                        within(5) { loop.writes.count { it.acknowledged } shouldBeGreaterThan 100 }
                        topology.failover("frozen")
                        val started = log.await<PicketEvent.FailoverStarted> { it.masterName == "frozen" }
                        val ended = log.await<PicketEvent.FailoverEnded>(seconds = 10) { it.masterName == "frozen" }
                        val aborted =
                            patientLog.await<PicketEvent.FailoverEnded>(seconds = 20) { it.masterName == "frozen" }
                        within(5) {
                            patientLoop.writes.count {
                                it.acknowledged &&
                                    it.issued.isAfter(
                                        aborted.at,
                                    )
                            } shouldBeGreaterThan
                                10
                        }
                        loop.stop()
                        patientLoop.stop()

                        started.oldAddress shouldBe master.asAddress
                        ended.outcome shouldBe FailoverOutcome.TIMED_OUT
                        ended.newAddress shouldBe null
                        ended.parkedFor shouldBeLessThan Duration.ofMillis(5_500)
                        val errors = loop.writes.mapNotNull { it.error }
                        // A parked block waits for the parking to end (5 s at most), whatever its command timeout
                        // (2 s): parking is not charged to the command timeout. It then fails.
                        errors.size shouldBeGreaterThan 0
                        errors.forEach { error ->
                            error.shouldBeInstanceOf<FailoverInProgressException>()
                            error.masterName shouldBe "frozen"
                            error.candidate shouldBe started.candidate
                            error.message shouldContain "was not confirmed; the block waited"
                        }
                        loop.writes.maxOf { it.millis } shouldBeLessThan 5_500L
                        // After the timeout, blocks run on the unchanged master.
                        loop.writes.count { it.acknowledged && it.issued.isAfter(ended.at) } shouldBeGreaterThan 100

                        aborted.outcome shouldBe FailoverOutcome.ABORTED
                        registry
                            .get("picket.failovers")
                            .tags("group", "main", "masterName", "frozen", "outcome", "TIMED_OUT")
                            .timer()
                            .count() shouldBe 1L
                        patientLoop.writes.mapNotNull { it.error }.shouldBeEmpty()
                        patientLoop.writes.maxOf { it.millis } shouldBeLessThan 15_000L
                        val keys =
                            loop.writes.filter { it.acknowledged }.map { "w:${it.n}" } +
                                patientLoop.writes.filter { it.acknowledged }.map { "p:${it.n}" }
                        held(master, keys) shouldBe keys.toSet()
                    }
                } finally {
                    replicas.forEach { node -> Inspect.on(node) { it.aclSetuser("default", aclAllowing()) } }
                }
                topology.awaitMaster("frozen") shouldBe master
            } finally {
                patient.close()
            }
        }

        test("without parking, the writes a failover loses are reported by DataLossSuspected, to the byte") {
            val unparked = Picket()
            try {
                unparked.setSentinelGroups("main" to topology.sentinelGroup().parking(false))
                val unparkedLog = EventLog(unparked)
                val unparkedMeters = SimpleMeterRegistry()
                PicketMetrics(unparked, unparkedMeters)
                val old = topology.awaitMaster("orders")
                picket.withConn(orders) { flushdb() }
                log.clear()
                // Three unparked loops, so that what the failover loses stays well beyond the byte tolerance below
                // even when a loaded machine slows each loop down (one loop lost 59 writes at a load of 7).
                val (loops, switch) =
                    coroutineScope {
                        val loops = (1..UNPARKED_LOOPS).map { WriteLoop(unparked, orders, this, prefix = "u$it:") }
                        val parkedLoop = WriteLoop(picket, orders, this, prefix = "p:")
                        within(5) {
                            loops.forEach { loop ->
                                loop.writes.count { it.acknowledged } shouldBeGreaterThan
                                    100
                            }
                        }
                        topology.failover("orders")
                        val switch = unparkedLog.await<PicketEvent.SwitchMaster> { it.masterName == "orders" }
                        within(10) {
                            loops.forEach { loop ->
                                loop.writes.count {
                                    it.acknowledged &&
                                        it.issued.isAfter(
                                            switch.at,
                                        )
                                } shouldBeGreaterThan
                                    100
                            }
                        }
                        loops.forEach { it.stop() }
                        parkedLoop.stop()
                        loops to switch
                    }
                val promoted = topology.nodeAt(switch.newAddress.toString())!!
                val acknowledged = loops.flatMap { loop -> loop.writes.filter { it.acknowledged } }
                val onNew = held(promoted, acknowledged.map { it.key })
                val lost = acknowledged.filter { it.key !in onNew }
                // Each lost SET, as the replication stream carries it (RESP).
                val lostBytes = lost.sumOf { resp("SET", it.key, "${it.n}").toLong() }

                lost.size shouldBeGreaterThan 100
                val suspected = unparkedLog.await<PicketEvent.DataLossSuspected> { it.masterName == "orders" }
                suspected.oldAddress shouldBe old.asAddress
                suspected.newAddress shouldBe switch.newAddress
                // The stream also carries the sentinels' hello messages (a few hundred bytes a second), and the last
                // few milliseconds of writes may have no mark (the switch closes the connection the marks are read
                // on): within a kilobyte.
                val gap = suspected.gapBytes.shouldNotBeNull()
                println("lost ${lost.size} writes, $lostBytes bytes; DataLossSuspected gap $gap bytes")
                (gap - lostBytes) shouldBeInRange -1_000L..1_000L
                within(5) {
                    unparkedMeters
                        .get("picket.loss.suspected")
                        .tags("group", "main", "masterName", "orders")
                        .counter()
                        .count() shouldBe 1.0
                }
                unparkedMeters.get("picket.loss.gap").summary().totalAmount() shouldBe gap.toDouble()
                // The parked instance, in the same failover, lost nothing and suspects nothing.
                log.ofType<PicketEvent.DataLossSuspected>().shouldBeEmpty()
            } finally {
                unparked.close()
            }
        }
    })

/** The size of a command in RESP, as it appears in the replication stream. */
private fun resp(vararg parts: String): Int =
    "*${parts.size}\r\n".length + parts.sumOf { "\$${it.length}\r\n".length + it.length + 2 }

private fun aclRefusing() =
    AclSetuserArgs.Builder.removeCommand(CommandType.REPLICAOF).removeCommand(CommandType.SLAVEOF)

private fun aclAllowing() = AclSetuserArgs.Builder.addCommand(CommandType.REPLICAOF).addCommand(CommandType.SLAVEOF)

/** Unparked write loops in the loss-report test: enough loss to check to the byte on a loaded machine. */
private const val UNPARKED_LOOPS = 3
