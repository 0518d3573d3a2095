package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import picket.core.Address
import picket.core.ConnSpec
import picket.core.MasterDownException
import picket.core.NodeConnectionException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SentinelGroupUnknownException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration

/**
 * What the resolver makes of the sentinels' answers: discovered sentinels, the configured ones as a last resort,
 * answers that flag the master down, and the pace of rounds while the master is unreachable. The master has no
 * replica, so that no failover can follow the faults provoked here.
 */
class SentinelAnswersSpec :
    FunSpec({
        val password = "sentinel-secret"
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                // Sentinels flag the master down only when a test lowers this on them.
                downAfter = Duration.ofSeconds(30)
                sentinelPassword = password
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val (s0, s1, s2) = topology.sentinels
        // Port 1 on loopback refuses connections: a configured sentinel that is never reachable.
        val unreachable = Address("127.0.0.1", 1)
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups(
            "main" to
                SentinelGroup(
                    listOf(unreachable, s0.asAddress),
                    password = password,
                    commandTimeout = Duration.ofMillis(500),
                ),
        )
        val spec =
            ConnSpec(
                sentinelGroup = "main",
                masterName = masterName,
                connectTimeout = Duration.ofSeconds(1),
                commandTimeout = Duration.ofSeconds(1),
            )
        val log = EventLog(picket)

        fun setDownAfter(
            sentinel: RedisNode,
            millis: Long,
        ) = Inspect.onSentinel(sentinel, password) { it.set(masterName, "down-after-milliseconds", "$millis") }

        fun flags(sentinel: RedisNode): String =
            Inspect.onSentinel(sentinel, password) { it.master(masterName) }.getValue("flags")

        test("sentinels discovered with SENTINEL sentinels use the group's password, and the configured stay last") {
            picket.withConn(spec) { set("k", "v") } shouldBe "OK"
            log.await<PicketEvent.SentinelsRefreshed>().sentinels shouldContainExactlyInAnyOrder
                listOf(unreachable, s0.asAddress, s1.asAddress, s2.asAddress)
            // The one that answered first, then the discovered ones, then the other configured ones.
            val order = picket.status("main").sentinels
            order.first() shouldBe s0.asAddress
            val discovered = order.subList(1, 3)
            discovered shouldContainExactlyInAnyOrder listOf(s1.asAddress, s2.asAddress)
            order.last() shouldBe unreachable

            // The one that answered is down: a discovered one answers, with the group's password.
            topology.pause(s0)
            try {
                picket.invalidate(spec) shouldBe true
                log.clear()
                picket.withConn(spec) { get("k") } shouldBe "v"
                // Delivered in order after the call returned: the errors come before the resolution's event.
                log.await<PicketEvent.MasterResolved> { it.masterName == masterName }
                log
                    .ofType<PicketEvent.SentinelError>()
                    .filter { it.masterName == masterName }
                    .map { it.sentinel }
                    .toSet() shouldBe setOf(s0.asAddress)
                picket.status("main").lastGoodSentinel shouldBe discovered.first()
            } finally {
                topology.resume(s0)
            }

            // Every discovered one down: the configured ones are asked last, and one of them answers.
            topology.pause(s1)
            topology.pause(s2)
            try {
                picket.invalidate(spec) shouldBe true
                log.clear()
                picket.withConn(spec) { get("k") } shouldBe "v"
                log.await<PicketEvent.MasterResolved> { it.masterName == masterName }
                val failed =
                    log
                        .ofType<PicketEvent.SentinelError>()
                        .filter { it.masterName == masterName }
                        .map { it.sentinel }
                        .toSet()
                (failed - unreachable) shouldBe setOf(s1.asAddress, s2.asAddress)
                picket.status("main").lastGoodSentinel shouldBe s0.asAddress
            } finally {
                topology.resume(s1)
                topology.resume(s2)
            }
        }

        test("an answer that flags the master s_down does not count; the next sentinel's does") {
            val master = topology.currentMaster(masterName)
            picket.status("main").lastGoodSentinel shouldBe s0.asAddress
            setDownAfter(s0, 300)
            topology.pause(master)
            try {
                within(10) { flags(s0) shouldContain "s_down" }
                flags(s1) shouldNotContain "s_down"
                picket.invalidate(spec) shouldBe true
                log.clear()

                // Another sentinel names the master; ROLE on the paused master then times out, on every attempt.
                val error = shouldThrow<NodeConnectionException> { picket.withConn(spec) { get("k") } }
                error.address shouldBe master.asAddress
                error.message shouldContain "ROLE. Command timed out after 1 second(s)"

                val rejected = log.ofType<PicketEvent.SentinelError>().first { it.masterName == masterName }
                rejected.sentinel shouldBe s0.asAddress
                rejected.cause.message shouldBe "flags master ${master.asAddress} [s_down]"
                picket.status("main").lastGoodSentinel shouldNotBe s0.asAddress
                log.ofType<PicketEvent.ResolutionFailed>() shouldBe emptyList()
            } finally {
                topology.resume(master)
                setDownAfter(s0, 30_000)
            }
            topology.awaitMaster(masterName)
            picket.withConn(spec) { get("k") } shouldBe "v"
        }

        test("when every sentinel flags the master down, the caller gets MasterDownException naming each") {
            val master = topology.currentMaster(masterName)
            topology.sentinels.forEach { setDownAfter(it, 300) }
            topology.pause(master)
            try {
                within(10) { topology.sentinels.forEach { flags(it) shouldContain "s_down" } }
                picket.invalidate(spec) shouldBe true
                log.clear()

                val error = shouldThrow<MasterDownException> { picket.withConn(spec) { get("k") } }

                error.group shouldBe "main"
                error.masterName shouldBe masterName
                error.address shouldBe master.asAddress
                error.failures.keys shouldBe picket.status("main").sentinels.toSet()
                error.message shouldContain "master '$masterName' of group 'main' at ${master.asAddress} is down"
                error.message shouldContain "$unreachable: "
                error.message shouldNotContain password
                log.await<PicketEvent.ResolutionFailed>().cause shouldBe error
            } finally {
                topology.resume(master)
                topology.sentinels.forEach { setDownAfter(it, 30_000) }
            }
            // Nothing negative is cached: once the sentinels see the master again, the next call resolves it.
            topology.awaitMaster(masterName)
            picket.withConn(spec) { get("k") } shouldBe "v"
        }

        test("while the master refuses connections, rounds of questions to the sentinels are paced") {
            val master = topology.currentMaster(masterName)
            picket.withConn(spec) { get("k") } shouldBe "v"
            topology.kill(master)
            val before = picket.status("main").resolutionRounds
            val started = System.nanoTime()

            // 50 callers retry for 2 s; the sentinels go on naming the dead master (down-after is 30 s).
            val errors =
                coroutineScope {
                    (1..50)
                        .map {
                            async {
                                val seen = mutableListOf<Exception>()
                                while (System.nanoTime() - started < 2_000_000_000L) {
                                    try {
                                        picket.withConn(spec) { get("k") }
                                    } catch (e: CancellationException) {
                                        throw e
                                    } catch (
                                        @Suppress("TooGenericExceptionCaught") e: Exception,
                                    ) {
                                        seen += e
                                    }
                                }
                                seen
                            }
                        }.awaitAll()
                        .flatten()
                }
            val elapsedMillis = (System.nanoTime() - started) / 1_000_000
            val rounds = picket.status("main").resolutionRounds - before

            errors.size shouldBeGreaterThan 50
            errors.forEach { error ->
                error.shouldBeInstanceOf<NodeConnectionException>()
                error.address shouldBe master.asAddress
            }
            // One round per 100 ms at most (the first one comes at once), and never none: nothing is cached.
            rounds shouldBeLessThanOrEqual elapsedMillis / 100 + 1
            rounds shouldBeGreaterThanOrEqual 5
            errors.first().message shouldContain "cannot connect to ${master.asAddress} for main/$masterName"

            topology.restart(master)
            topology.awaitMaster(masterName)
            picket.withConn(spec) { get("k") } shouldBe null
        }

        test("a group replaced or removed during a resolution: callers follow the new declaration, or get told") {
            fun rounds() = picket.status("main").resolutionRounds
            val declaration =
                SentinelGroup(topology.sentinels.map { it.asAddress }, password = password)
            picket.withConn(spec) { set("k", "again") } shouldBe "OK"

            // Paused sentinels hold the round in flight while the group is replaced.
            topology.sentinels.forEach { topology.pause(it) }
            val replaced =
                try {
                    picket.invalidate(spec) shouldBe true
                    val before = rounds()
                    coroutineScope {
                        val caller = async { picket.withConn(spec) { get("k") } }
                        within(5) { rounds() shouldBe before + 1 }
                        picket.setSentinelGroups("main" to declaration)
                        topology.sentinels.forEach { topology.resume(it) }
                        caller.await()
                    }
                } finally {
                    topology.sentinels.forEach { if (it.isPaused) topology.resume(it) }
                }
            replaced shouldBe "again"
            picket.status("main").masters.keys shouldBe setOf(masterName)

            topology.sentinels.forEach { topology.pause(it) }
            val error =
                try {
                    picket.invalidate(spec) shouldBe true
                    val before = rounds()
                    coroutineScope {
                        val caller = async { runCatching { picket.withConn(spec) { get("k") } }.exceptionOrNull() }
                        within(5) { rounds() shouldBe before + 1 }
                        picket.removeSentinelGroup("main") shouldBe true
                        caller.await()
                    }
                } finally {
                    topology.sentinels.forEach { topology.resume(it) }
                }
            error.shouldBeInstanceOf<SentinelGroupUnknownException>()
            error.group shouldBe "main"
            picket.sentinelGroups() shouldBe emptySet()
        }
    })
