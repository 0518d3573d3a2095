package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.RedisException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyExtension
import picket.testkit.WriteLoop
import java.time.Duration
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/** Failovers under a write loop, and the ROLE sweep; each failover is real and waited for, never simulated. */
class FailoverSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { masterNames = listOf("orders", "users") }
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val orders = ConnSpec(sentinelGroup = "main", masterName = "orders", commandTimeout = Duration.ofSeconds(2))
        val users = orders.copy(masterName = "users")
        val log = EventLog(picket)

        /**
         * Asserts that each of [writes] is on [master] and returns how many were checked; on a failure it first says
         * where the first missing write is, and what switches were seen.
         */
        fun checkOn(
            master: picket.testkit.RedisNode,
            writes: List<WriteLoop.Write>,
        ): Int {
            val missing =
                writes.chunked(500).flatMap { chunk ->
                    val values = Inspect.on(master) { redis -> redis.mget(*chunk.map { "w:${it.n}" }.toTypedArray()) }
                    chunk.zip(values).filter { (_, value) -> !value.hasValue() }.map { it.first }
                }
            missing.firstOrNull()?.let { first ->
                val holders =
                    topology.dataNodes("orders").filter { node ->
                        Inspect.on(node) { it.get("w:${first.n}") } !=
                            null
                    }
                println(
                    "lost: ${missing.size} writes from ${first.n}, issued ${first.issued}, took ${first.millis} ms, " +
                        "found on $holders, not on $master; switches ${log.ofType<PicketEvent.SwitchMaster>()}",
                )
            }
            missing.map { it.n }.shouldBeEmpty()
            return writes.size
        }

        /** Every acknowledged write of [loop] is on [master]. */
        fun checkAllWrites(
            loop: WriteLoop,
            master: picket.testkit.RedisNode,
        ): Int = checkOn(master, loop.writes.filter { it.acknowledged })

        /** Every acknowledged write issued after [switch] is on its new master. */
        fun checkWritesAfter(
            loop: WriteLoop,
            switch: PicketEvent.SwitchMaster,
        ): Int =
            checkOn(
                topology.nodeAt(switch.newAddress.toString())!!,
                loop.writes.filter { it.acknowledged && it.issued.isAfter(switch.at) },
            )

        test("the ROLE sweep drops a dead master, keeps the live one, and returns what it dropped") {
            picket.withConn(orders) { set("o", "1") }
            picket.withConn(users) { set("u", "1") }
            val usersMaster = topology.awaitMaster("users")
            topology.kill(usersMaster)

            val dropped = picket.removeInvalidResolvedMasterSpecs()

            dropped shouldHaveSize 1
            dropped.single().masterName shouldBe "users"
            dropped.single().address shouldBe usersMaster.asAddress
            dropped.single().reason shouldStartWith "ROLE failed"
            picket.status("main").masters.keys shouldBe setOf("orders")
            val promoted = topology.awaitMaster("users", notEqualTo = usersMaster)
            picket.withConn(users) { get("u") } shouldBe "1"
            picket.status("main").masters["users"] shouldBe promoted.asAddress
        }

        test("a manual failover switches once, closes the old master's connections, and every write after it lands") {
            val old = topology.awaitMaster("orders")
            picket.withConn(orders) { set("before", "x") }
            log.clear()
            val switch =
                coroutineScope {
                    val loop = WriteLoop(picket, orders, this)
                    topology.failover("orders")
                    val switch = log.await<PicketEvent.SwitchMaster>(seconds = 30) { it.masterName == "orders" }
                    // Keep writing on the new master for a while after the switch.
                    within(10) {
                        loop.writes.count { it.acknowledged && it.issued.isAfter(switch.at) } shouldBeGreaterThan
                            500
                    }
                    loop.stop()
                    println(
                        "manual failover: ${loop.writes.size} writes, ${loop.writes.count { !it.acknowledged }} errors",
                    )
                    checkWritesAfter(loop, switch) shouldBeGreaterThan 500
                    loop.writes.maxOf { it.millis } shouldBeLessThan 5_000L
                    loop.writes.mapNotNull { it.error }.forEach {
                        (it is PicketException || it is RedisException) shouldBe
                            true
                    }
                    switch
                }
            switch.group shouldBe "main"
            switch.oldAddress shouldBe old.asAddress
            switch.newAddress shouldBe topology.awaitMaster("orders", notEqualTo = old).asAddress
            log.ofType<PicketEvent.SwitchMaster>().filter { it.masterName == "orders" } shouldHaveSize 1
            picket.withConn(orders) { role().first() } shouldBe "master"
        }

        test(
            "after kill -9 of the master, callers get typed errors within their timeout and writes resume on the " +
                "new one",
        ) {
            val old = topology.awaitMaster("orders")
            log.clear()
            coroutineScope {
                val loop = WriteLoop(picket, orders, this)
                within(5) { loop.writes.count { it.acknowledged } shouldBeGreaterThan 100 }
                topology.kill(old)
                val switch = log.await<PicketEvent.SwitchMaster>(seconds = 30) { it.masterName == "orders" }
                within(10) {
                    loop.writes.count { it.acknowledged && it.issued.isAfter(switch.at) } shouldBeGreaterThan
                        500
                }
                loop.stop()
                val errors = loop.writes.mapNotNull { it.error }
                println(
                    "kill -9: ${loop.writes.size} writes, ${errors.size} errors: ${errors.map {
                        it::class.simpleName
                    }.toSet()}",
                )
                errors.forEach { (it is PicketException || it is RedisException) shouldBe true }
                loop.writes.maxOf { it.millis } shouldBeLessThan 5_000L
                switch.oldAddress shouldBe old.asAddress
                checkWritesAfter(loop, switch) shouldBeGreaterThan 500
            }
            topology.restart(old)
            topology.awaitMaster("orders")
        }

        test("durable writes: no acknowledged write is lost across a manual failover or a kill -9 of the master") {
            val durable = orders.copy(durability = Durability.allReplicas(Duration.ofSeconds(1)))
            for (fault in listOf("manual failover", "kill -9")) {
                val old = topology.awaitMaster("orders")
                picket.withConn(orders) { flushdb() }
                log.clear()
                coroutineScope {
                    val loop = WriteLoop(picket, durable, this)
                    within(5) { loop.writes.count { it.acknowledged } shouldBeGreaterThan 100 }
                    println("durable, $fault: fault at ${java.time.Instant.now()} after write ${loop.writes.size}")
                    if (fault == "kill -9") topology.kill(old) else topology.failover("orders")
                    val switch = log.await<PicketEvent.SwitchMaster>(seconds = 30) { it.masterName == "orders" }
                    // Durable writes are refused until every replica Sentinel lists has caught up with the new
                    // master: after a manual failover that includes the demoted master, about ten seconds on.
                    within(40) {
                        loop.writes.count { it.acknowledged && it.issued.isAfter(switch.at) } shouldBeGreaterThan
                            50
                    }
                    loop.stop()
                    val failed = loop.writes.mapNotNull { it.error }
                    println(
                        "durable, $fault: ${loop.writes.size} writes, ${failed.size} not acknowledged: " +
                            failed.map { it::class.simpleName }.toSet(),
                    )
                    failed.forEach { (it is PicketException || it is RedisException) shouldBe true }
                    val promoted = topology.nodeAt(switch.newAddress.toString())!!
                    checkAllWrites(loop, promoted) shouldBeGreaterThan 150
                }
                if (fault == "kill -9") topology.restart(old)
            }
            topology.awaitMaster("orders")
        }

        test("two groups over the same sentinels both switch, and a block that held the old master fails on it") {
            picket.addSentinelGroups("second" to topology.sentinelGroup())
            val viaSecond = orders.copy(sentinelGroup = "second")
            val held = orders.copy(clientName = "held")
            val old = topology.awaitMaster("orders")
            picket.withConn(viaSecond) { set("second", "1") }
            log.clear()
            val switchSeen = CompletableDeferred<Unit>()
            val handle = picket.registerListener { if (it is PicketEvent.SwitchMaster) switchSeen.complete(Unit) }
            val heldError =
                coroutineScope {
                    val block =
                        async {
                            picket.withConn(held) {
                                set("held", "1")
                                withTimeout(30.seconds) { switchSeen.await() }
                                runCatching { set("held", "2") }.exceptionOrNull()
                            }
                        }
                    topology.failover("orders")
                    block.await()
                }
            handle.close()
            heldError.shouldNotBeNull()
            Inspect.on(old) { it.get("held") } shouldBe "1"
            val main = log.await<PicketEvent.SwitchMaster>(seconds = 30) { it.group == "main" }
            val second = log.await<PicketEvent.SwitchMaster>(seconds = 30) { it.group == "second" }
            second.newAddress shouldBe main.newAddress
            picket.status("second").masters["orders"] shouldBe main.newAddress
            picket.withConn(held) { get("held") } shouldBe "1"
            picket.withConn(held) { role().first() } shouldBe "master"
            topology.awaitMaster("orders", notEqualTo = old)
            picket.removeSentinelGroup("second") shouldBe true
        }

        test("a listener that blocks its thread delays neither resolution nor switch handling") {
            val old = topology.awaitMaster("users")
            picket.withConn(users) { set("slow", "1") } shouldBe "OK"
            val blocked = CountDownLatch(1)
            val release = CountDownLatch(1)
            // Registered after the event log: on each event the log hears first, then this one blocks.
            val slow =
                picket.registerListener {
                    blocked.countDown()
                    release.await(60, TimeUnit.SECONDS)
                }
            try {
                picket.invalidate(users) shouldBe true
                blocked.await(10, TimeUnit.SECONDS) shouldBe true
                log.clear()

                // Resolution goes on while the listener blocks.
                val rounds = picket.status("main").resolutionRounds
                picket.withConn(users) { get("slow") } shouldBe "1"
                picket.status("main").resolutionRounds shouldBe rounds + 1

                // So does the switch: the cache follows +switch-master and blocks run on the new master.
                topology.failover("users")
                val promoted =
                    within(30) {
                        val cached = picket.status("main").masters["users"]
                        cached shouldNotBe old.asAddress
                        topology.nodeAt(cached.toString())!!
                    }
                picket.withConn(users) { set("slow", "2") } shouldBe "OK"
                Inspect.on(promoted) { it.get("slow") } shouldBe "2"
                // Meanwhile no event got past the blocked listener.
                log.ofType<PicketEvent.SwitchMaster>() shouldBe emptyList()
            } finally {
                release.countDown()
                slow.close()
            }
            // Released, the queued events arrive in order.
            val switch = log.await<PicketEvent.SwitchMaster> { it.masterName == "users" }
            switch.oldAddress shouldBe old.asAddress
            topology.awaitMaster("users", notEqualTo = old).asAddress shouldBe switch.newAddress
        }
    })
