package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.KillArgs
import io.lettuce.core.LMoveArgs
import io.lettuce.core.RedisCommandExecutionException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PipelineException
import picket.core.PoolExhaustedException
import picket.core.TransactionInterruptedException
import picket.core.TransactionOutcome
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import kotlin.time.Duration.Companion.nanoseconds

/** Dedicated connections: blocking commands, their pool, transactions and pipelines, on a real topology. */
class DedicatedSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)

        test("a BLMOVE blocked for 5 s on a dedicated connection delays no GET on the same spec") {
            picket.withConn(spec) { set("blocking:probe", "1") }
            coroutineScope {
                val started = System.nanoTime()
                val blocked =
                    async {
                        picket.withDedicatedConn(spec) {
                            blmove("blocking:empty", "blocking:dst", LMoveArgs.Builder.rightLeft(), 5.0)
                        }
                    }
                var slowest = Duration.ZERO
                repeat(200) {
                    val begin = System.nanoTime()
                    picket.withConn(spec) { get("blocking:probe") } shouldBe "1"
                    slowest = maxOf(slowest, Duration.ofNanos(System.nanoTime() - begin))
                }
                val elapsedWhileBlocked = Duration.ofNanos(System.nanoTime() - started)
                blocked.await() shouldBe null
                val blockedFor = (System.nanoTime() - started).nanoseconds
                println(
                    "200 GETs in ${elapsedWhileBlocked.toMillis()} ms beside a BLMOVE, " +
                        "slowest ${slowest.toMillis()} ms",
                )
                elapsedWhileBlocked shouldBeLessThan Duration.ofSeconds(4)
                slowest shouldBeLessThan Duration.ofMillis(200)
                blockedFor.inWholeMilliseconds shouldBeGreaterThan 4_500L
            }
        }

        test("a full pool waits its bound, then fails typed; a connection whose block failed is never reused") {
            val small = spec.copy(clientName = "pool-small", poolSize = 2, poolWait = Duration.ofMillis(300))
            coroutineScope {
                val holders =
                    (1..2).map {
                        async { picket.withDedicatedConn(small) { blpop(3.0, "pool:empty:$it") } }
                    }
                // The two dedicated connections, and the shared one that checked the master's ROLE.
                within(5) { Inspect.clientsNamed(topology.currentMaster(masterName), "pool-small") shouldBe 3 }
                val begin = System.nanoTime()
                val error = shouldThrow<PoolExhaustedException> { picket.withDedicatedConn(small) { ping() } }
                Duration.ofNanos(System.nanoTime() - begin) shouldBeGreaterThan Duration.ofMillis(250)
                error.size shouldBe 2
                error.message shouldBe
                    "all 2 dedicated connections to ${error.address} (main/$masterName) stayed in use for 300 ms"
                holders.forEach { it.await() shouldBe null }
            }
            val first = picket.withDedicatedConn(small) { clientId() }
            picket.withDedicatedConn(small) { clientId() } shouldBe first
            picket.withConn(spec) { set("pool:text", "not a number") }
            val failed =
                shouldThrow<RedisCommandExecutionException> {
                    picket.withDedicatedConn(small) {
                        clientId() shouldBe first
                        incr("pool:text")
                    }
                }
            failed.message shouldStartWith "ERR value is not an integer"
            picket.withDedicatedConn(small) { clientId() } shouldNotBe first
            val master = topology.currentMaster(masterName)
            within(5) {
                Inspect.on(master) { it.clientList() }.lines().none { it.startsWith("id=$first ") } shouldBe
                    true
            }
            shouldThrow<InvalidSpecException> { spec.copy(poolSize = 0) }.message shouldBe "poolSize is 0, must be >= 1"
            shouldThrow<InvalidSpecException> { spec.copy(poolWait = Duration.ofMillis(-1)) }.message shouldBe
                "poolWait is PT-0.001S, must be > 0"
        }

        test("a block's WATCH and SELECT do not follow its connection back to the pool; a shared pool says its size") {
            val one = spec.copy(clientName = "pool-reset", poolSize = 1, poolWait = Duration.ofMillis(200))
            picket.withConn(spec) { set("reset:watched", "1") }
            val id =
                picket.withDedicatedConn(one) {
                    watch("reset:watched")
                    select(3)
                    set("reset:db3", "x")
                    clientId()
                }
            picket.withConn(spec) { set("reset:watched", "2") }
            // The same connection (a pool of one): a leaked WATCH would abort this transaction.
            picket.transaction(one) { multi { it.set("reset:after", "ok") } } shouldBe
                TransactionOutcome.Committed(listOf("OK"))
            picket.withDedicatedConn(one) {
                clientId() shouldBe id
                get("reset:db3") shouldBe null
                get("reset:after")
            } shouldBe "ok"
            coroutineScope {
                val holding = CompletableDeferred<Unit>()
                val holder =
                    async {
                        picket.withDedicatedConn(one) {
                            holding.complete(Unit)
                            blpop(1.0, "reset:empty")
                        }
                    }
                holding.await()
                // Specs that share a connection key share the pool sized by the first: the error says its size.
                shouldThrow<PoolExhaustedException> { picket.withDedicatedConn(one.copy(poolSize = 5)) { ping() } }
                    .size shouldBe 1
                holder.await() shouldBe null
            }
        }

        test("a transaction commits, reports a WATCH conflict as Aborted, and an interruption before EXEC as not run") {
            picket.withConn(spec) { set("tx:balance", "100") }
            val committed =
                picket.transaction(spec, watch = listOf("tx:balance")) {
                    val balance = redis.get("tx:balance")!!.toLong()
                    multi {
                        it.set("tx:balance", "${balance - 10}")
                        it.incr("tx:withdrawals")
                    }
                }
            committed shouldBe TransactionOutcome.Committed(listOf("OK", 1L))
            picket.withConn(spec) { get("tx:balance") } shouldBe "90"

            val aborted =
                picket.transaction(spec, watch = listOf("tx:balance")) {
                    val balance = redis.get("tx:balance")!!.toLong()
                    // Another client changes the watched key between WATCH and EXEC.
                    picket.withConn(spec) { set("tx:balance", "500") }
                    multi { it.set("tx:balance", "${balance - 10}") }
                }
            aborted shouldBe TransactionOutcome.Aborted(listOf("tx:balance"))
            aborted.committed shouldBe false
            picket.withConn(spec) { get("tx:balance") } shouldBe "500"

            val master = topology.currentMaster(masterName)
            val interrupted =
                shouldThrow<TransactionInterruptedException> {
                    picket.transaction(spec, watch = listOf("tx:balance")) {
                        val id = redis.clientId()!!
                        Inspect.on(master) { it.clientKill(KillArgs.Builder.id(id)) } shouldBe 1L
                        multi { it.set("tx:balance", "0") }
                    }
                }
            interrupted.execSent shouldBe false
            interrupted.address shouldBe master.asAddress
            interrupted.message shouldContain "was interrupted before EXEC: it did not run"
            picket.withConn(spec) { get("tx:balance") } shouldBe "500"
        }

        test("a pipeline of 100,000 commands returns 100,000 replies in order; an error reply is one reply") {
            picket.withConn(spec) { del("pl:counter") }
            val replies = picket.pipeline(spec) { repeat(100_000) { add { it.incr("pl:counter") } } }
            replies shouldBe (1..100_000L).toList()
            picket.withConn(spec) { set("pl:text", "x") }
            val mixed =
                picket.pipeline(spec, window = 2) {
                    add { it.get("pl:text") }
                    add { it.incr("pl:text") }
                    add { it.get("pl:counter") }
                }
            mixed[0] shouldBe "x"
            mixed[1].shouldBeInstanceOf<RedisCommandExecutionException>().message shouldStartWith "ERR value is not"
            mixed[2] shouldBe "100000"
        }

        test("a pipeline whose connection is killed between windows fails with what ran, and never runs again") {
            picket.withConn(spec) { del("pk:counter") }
            val killable = spec.copy(clientName = "pl-kill")
            val master = topology.currentMaster(masterName)
            val error =
                shouldThrow<PipelineException> {
                    picket.pipeline(killable, window = 10) {
                        repeat(10) { add { it.incr("pk:counter") } }
                        // The first window is written and answered once the eleventh command is added.
                        add { it.incr("pk:counter") }
                        Inspect.on(master) { redis ->
                            redis
                                .clientList()
                                .lines()
                                .filter { it.split(" ").contains("name=pl-kill") }
                                .forEach { line ->
                                    val id = line.split(" ").first { it.startsWith("id=") }.substringAfter('=')
                                    redis.clientKill(KillArgs.Builder.id(id.toLong()))
                                }
                        }
                        repeat(20) { add { it.incr("pk:counter") } }
                    }
                }
            error.knownReplies shouldBe 10
            error.replies shouldBe (1..10L).toList()
            // Only the first window ran: the pipeline was not run again from the start.
            picket.withConn(spec) { get("pk:counter") } shouldBe "10"
        }

        test("a transaction that a failover interrupts says it did not run; its write reaches no master") {
            val old = topology.awaitMaster(masterName)
            picket.withConn(spec.withDurability(Durability.allReplicas(Duration.ofSeconds(5)))) {
                set("txf:balance", "100")
            }
            val log = EventLog(picket)
            val error =
                shouldThrow<TransactionInterruptedException> {
                    picket.transaction(spec, watch = listOf("txf:balance")) {
                        val balance = redis.get("txf:balance")!!.toLong()
                        topology.failover(masterName)
                        log.await<PicketEvent.SwitchMaster>()
                        multi { it.set("txf:balance", "${balance - 10}") }
                    }
                }
            error.execSent shouldBe false
            error.address shouldBe old.asAddress
            error.message shouldContain "was interrupted before EXEC: it did not run"
            picket.withConn(spec) { get("txf:balance") } shouldBe "100"
            log.close()
            topology.awaitMaster(masterName, notEqualTo = old)
            Inspect.on(old) { it.get("txf:balance") } shouldBe "100"
        }

        test("a failover in the middle of a pipeline fails it with the replies known; none of them is lost silently") {
            val old = topology.awaitMaster(masterName)
            val log = EventLog(picket)
            val deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos()
            val error =
                shouldThrow<PipelineException> {
                    picket.pipeline(spec) {
                        var i = 0
                        while (System.nanoTime() < deadline) {
                            add { it.set("pf:${i++}", "v") }
                            if (i == 20_000) topology.failover(masterName)
                        }
                    }
                }
            error.address shouldBe old.asAddress
            error.knownReplies shouldBeGreaterThanOrEqual 20_000
            error.replies.toSet() shouldBe setOf("OK")
            error.message shouldStartWith
                "pipeline on ${old.asAddress} (main/$masterName) failed after ${error.knownReplies} of ${error.queued}"
            val switch = log.await<PicketEvent.SwitchMaster>()
            switch.oldAddress shouldBe old.asAddress
            val promoted = topology.nodeAt(switch.newAddress.toString())!!
            val missing =
                (0 until error.knownReplies).map { "pf:$it" }.chunked(1_000).sumOf { keys ->
                    Inspect.on(promoted) { redis -> redis.exists(*keys.toTypedArray()) }.let { keys.size - it.toInt() }
                }
            println("pipeline: ${error.knownReplies} replies known of ${error.queued}, $missing not on the new master")
            if (missing >
                0
            ) {
                log.await<PicketEvent.DataLossSuspected>()
            } else {
                log.ofType<PicketEvent.DataLossSuspected>().shouldBeEmpty()
            }
            topology.awaitMaster(masterName, notEqualTo = old)
        }
    })
