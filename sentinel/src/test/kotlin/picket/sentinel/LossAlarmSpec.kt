package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.LMoveArgs
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.StatusOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyExtension
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CopyOnWriteArrayList

/**
 * `DataLossSuspected` fires only when acknowledged writes may be missing: not for a blocked list reader's timed-out
 * reads, nor for reads or Picket's own blocks on the old master after the replica took over, nor for a write that
 * was parked or blocked across the failover.
 */
class LossAlarmSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { masterNames = listOf("jobs") }
        val spec = ConnSpec(sentinelGroup = "main", masterName = "jobs", commandTimeout = Duration.ofSeconds(3))
        // Bytes in the replication stream that are not writes: the sentinels' hello messages (PUBLISH, 133 bytes
        // each), every 2 s per sentinel by default, here every second, so that each failover has a few in its first
        // second. Not shorter: a sentinel converts a replica that reports itself master back after four hello
        // periods, and at 100 ms one did so to a freshly promoted master before it heard of the switch.
        // Before Redis 7.0 there is no SENTINEL DEBUG: the specs still hold, with fewer hellos to trip on.
        topology.sentinels.forEach { sentinel ->
            try {
                Inspect.onSentinel(sentinel) {
                    it.dispatch(
                        CommandType.SENTINEL,
                        StatusOutput(StringCodec.UTF8),
                        CommandArgs(StringCodec.UTF8).add("DEBUG").add("publish-period").add(1_000),
                    )
                }
            } catch (e: RedisCommandExecutionException) {
                println("$sentinel keeps its 2 s hello period: ${e.message}")
            }
        }

        /**
         * A list listener's traffic, as picket-mq's has it: BLMOVE from an empty list with a short timeout, over and
         * over on a dedicated connection, and reads of the processing list on the shared one; errors (a failover
         * closes connections) are counted and the loop goes on, as the listener's does.
         */
        class IdleListener(
            picket: Picket,
            scope: CoroutineScope,
        ) {
            val rounds = CopyOnWriteArrayList<Instant>()
            val errors = CopyOnWriteArrayList<Throwable>()
            private val job: Job =
                scope.launch(Dispatchers.Default) {
                    while (isActive) {
                        try {
                            val moved =
                                picket.withDedicatedConn(spec) {
                                    blmove("idle:in", "idle:processing", LMoveArgs.Builder.rightLeft(), 0.1)
                                }
                            moved shouldBe null
                            picket.withConn(spec) { lrange("idle:processing", 0, -1) }.shouldBeEmpty()
                            rounds += Instant.now()
                        } catch (e: PicketException) {
                            errors += e
                            // Pacing after an error, as the listener's backoff: not a wait for a condition.
                            delay(20)
                        }
                    }
                }

            fun after(at: Instant): Int = rounds.count { it.isAfter(at) }

            suspend fun stop() = job.cancelAndJoin()
        }

        test("a blocked list reader and no writes: a manual SENTINEL FAILOVER raises no DataLossSuspected") {
            // With parking (the default) and without: without it the reader's blocks go on succeeding on the old
            // master for about a second after the replica took over its stream.
            val parked = Picket()
            val unparked = Picket()
            try {
                parked.setSentinelGroups("main" to topology.sentinelGroup())
                unparked.setSentinelGroups("main" to topology.sentinelGroup().parking(false))
                val instances = listOf(parked, unparked)
                val logs = instances.map { EventLog(it) }
                withTimeout(90_000) {
                    coroutineScope {
                        val listeners = instances.map { IdleListener(it, this) }
                        within(10) { listeners.forEach { it.rounds.size shouldBeGreaterThan 5 } }
                        repeat(2) { round ->
                            logs.forEach { it.clear() }
                            val old = topology.awaitMaster("jobs")
                            topology.failover("jobs")
                            val switches =
                                logs.map { log ->
                                    log.await<PicketEvent.SwitchMaster> { it.masterName == "jobs" }
                                }
                            switches.forEach { it.oldAddress shouldBe old.asAddress }
                            logs.forEach { log -> log.await<PicketEvent.NewMasterServing> { it.masterName == "jobs" } }
                            // The readers go on on the new master; the old one is converted (seconds later).
                            within(10) {
                                listeners.zip(switches).forEach { (listener, switch) ->
                                    listener.after(switch.at) shouldBeGreaterThan 5
                                }
                            }
                            topology.awaitMaster("jobs", notEqualTo = old)
                            println(
                                "failover ${round + 1}, idle listeners: rounds ${listeners.map { it.rounds.size }}, " +
                                    "errors ${listeners.map { l -> l.errors.map { it::class.simpleName } }}",
                            )
                            logs.forEach { it.ofType<PicketEvent.DataLossSuspected>().shouldBeEmpty() }
                        }
                        listeners.forEach { it.stop() }
                    }
                }
                logs.forEach { it.close() }
            } finally {
                parked.close()
                unparked.close()
            }
        }

        test("writes parked or blocked across a failover complete on the new master or fail typed, and no alarm") {
            // The parked write needs parking; the blocked one is on an instance without, whose other blocks go on
            // succeeding on the old master after the replica took over.
            val parked = Picket()
            val unparked = Picket()
            try {
                parked.setSentinelGroups("main" to topology.sentinelGroup())
                unparked.setSentinelGroups("main" to topology.sentinelGroup().parking(false))
                val instances = listOf(parked, unparked)
                val logs = instances.map { EventLog(it) }
                val (log, unparkedLog) = logs
                withTimeout(60_000) {
                    coroutineScope {
                        val listeners = instances.map { IdleListener(it, this) }
                        // Writes acknowledged before the failover: on the new master after it, so nothing to report.
                        instances.forEachIndexed { n, picket ->
                            repeat(100) { i -> picket.withConn(spec) { set("before:$n:$i", "$i") } }
                        }
                        within(10) { listeners.forEach { it.rounds.size shouldBeGreaterThan 5 } }
                        val old = topology.awaitMaster("jobs")
                        // A write blocked on the old master across the failover: BLMOVE waits for an element.
                        val blockedSpec =
                            spec.copy(
                                commandTimeout = Duration.ofSeconds(20),
                                clientName = "blocked-writer",
                            )
                        val blocked =
                            async(Dispatchers.Default) {
                                runCatching {
                                    unparked.withDedicatedConn(blockedSpec) {
                                        blmove("blocked:in", "blocked:out", LMoveArgs.Builder.rightLeft(), 15.0)
                                    }
                                }
                            }
                        within(5) {
                            val clients = Inspect.on(old) { it.clientList() }.lines()
                            clients.count { "name=blocked-writer" in it && "cmd=blmove" in it } shouldBe 1
                        }
                        topology.failover("jobs")
                        // A write issued while the failover is announced: parked, then run on the new master.
                        log.await<PicketEvent.FailoverStarted> { it.masterName == "jobs" }
                        val parkedWrite = async(Dispatchers.Default) { parked.withConn(spec) { set("parked", "1") } }
                        val switch = log.await<PicketEvent.SwitchMaster> { it.masterName == "jobs" }
                        unparkedLog.await<PicketEvent.SwitchMaster> { it.masterName == "jobs" }
                        parkedWrite.await() shouldBe "OK"
                        val ended = log.await<PicketEvent.FailoverEnded> { it.masterName == "jobs" }
                        ended.parkedBlocks shouldBeGreaterThan 0
                        // The switch closed the old master's connections: the blocked BLMOVE fails typed, unless
                        // the element below reached it first (then it ran on the new master).
                        parked.withConn(spec) { lpush("blocked:in", "x") }
                        val outcome = withTimeout(20_000) { blocked.await() }
                        val moved = outcome.getOrNull()
                        if (outcome.isFailure) {
                            outcome.exceptionOrNull().shouldBeInstanceOf<PicketException>()
                        } else {
                            moved shouldBe "x"
                        }
                        val promoted = topology.nodeAt(switch.newAddress.toString()).shouldNotBeNull()
                        Inspect.on(promoted) { it.get("parked") } shouldBe "1"
                        val before = (0..1).flatMap { n -> (0 until 100).map { "before:$n:$it" } }
                        Inspect.on(promoted) { redis -> redis.exists(*before.toTypedArray()) } shouldBe 200L
                        within(10) { listeners.forEach { it.after(switch.at) shouldBeGreaterThan 5 } }
                        topology.awaitMaster("jobs", notEqualTo = old)
                        listeners.forEach { it.stop() }
                        val blockedEnd = outcome.exceptionOrNull()?.let { it::class.simpleName } ?: "moved $moved"
                        val parkedFor = ended.parkedFor.toMillis()
                        println("blocked write: $blockedEnd; parked ${ended.parkedBlocks} for $parkedFor ms")
                        logs.forEach { it.ofType<PicketEvent.DataLossSuspected>().shouldBeEmpty() }
                    }
                }
                logs.forEach { it.close() }
            } finally {
                parked.close()
                unparked.close()
            }
        }
    })
