package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.lettuce.core.KillArgs
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import picket.core.Address
import picket.core.Balancer
import picket.core.BalancerException
import picket.core.Balancers
import picket.core.ConnSpec
import picket.core.ConnectionLostException
import picket.core.Durability
import picket.core.DurabilityException
import picket.core.InvalidSpecException
import picket.core.MasterNameUnknownException
import picket.core.NoHealthyReplicaException
import picket.core.NodeConnectionException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketException
import picket.core.ReplicaBehindException
import picket.core.SentinelGroup
import picket.core.SentinelGroupUnknownException
import picket.core.SentinelsUnreachableException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisBinary
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean

/** Resolution on a steady topology: cache, single flight, replicas, direct specs, connections held, errors. */
class ResolverSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
        val log = EventLog(picket)

        test("a block runs on the master that the sentinels name, verified once with ROLE") {
            val master = topology.awaitMaster(masterName)
            picket.withConn(spec) { set("greeting", "hello") } shouldBe "OK"
            picket.withConn(spec) { get("greeting") } shouldBe "hello"
            Inspect.on(master) { it.get("greeting") } shouldBe "hello"
            val resolved = log.await<PicketEvent.MasterResolved>()
            resolved.group shouldBe "main"
            resolved.masterName shouldBe masterName
            resolved.address shouldBe master.asAddress
            log.ofType<PicketEvent.MasterResolved>() shouldHaveSize 1
            picket.status("main").masters shouldBe mapOf(masterName to master.asAddress)
        }

        test("a cache hit asks no sentinel, and 1,000 concurrent blocks on a cold cache cause one resolution round") {
            // Rounds as the resolver counts them: each one is a question to the sentinels. (Counting connections on
            // the sentinels instead is unsound: the sentinels open links to each other at times of their own.)
            fun rounds() = picket.status("main").resolutionRounds

            val warm = rounds()
            repeat(100) { picket.withConn(spec) { get("greeting") } }
            rounds() shouldBe warm

            picket.invalidate(spec) shouldBe true
            log.clear()
            val results =
                coroutineScope {
                    (1..1000).map { i -> async { picket.withConn(spec) { incr("counter:$i") } } }.awaitAll()
                }
            results.toSet() shouldBe setOf(1L)
            rounds() shouldBe warm + 1
            log.await<PicketEvent.MasterResolved>()
            log.ofType<PicketEvent.MasterResolved>() shouldHaveSize 1
        }

        test("replica blocks run on healthy replicas, and round robin uses each of them") {
            val replicas = topology.dataNodes(masterName).filter { it != topology.awaitMaster(masterName) }
            val reads = spec.preferReplica(Balancers.roundRobin(), fallbackToMaster = false)
            val used =
                (1..10).map {
                    picket.withConn(reads) {
                        (role().first() as String) to
                            info("server")!!.lines().first { l -> l.startsWith("tcp_port:") }
                    }
                }
            used.map { it.first }.toSet() shouldBe setOf("slave")
            used
                .map {
                    it.second
                        .removePrefix("tcp_port:")
                        .trim()
                        .toInt()
                }.toSet() shouldContainExactlyInAnyOrder
                replicas.map { it.port }
            // Events reach listeners after the call returned: awaited, not read.
            within(5) {
                log
                    .ofType<PicketEvent.ReplicaResolved>()
                    .lastOrNull()
                    .shouldNotBeNull()
                    .candidates shouldContainExactlyInAnyOrder
                    replicas.map { it.asAddress }
            }
        }

        test("a nested block on the same spec reuses the enclosing connection") {
            picket.withConn(spec) {
                val outer = clientId()
                val inner = picket.withConn(spec) { clientId() }
                inner shouldBe outer
            }
        }

        test("a direct spec bypasses the sentinels") {
            val master = topology.awaitMaster(masterName)
            picket.withConn(ConnSpec(host = master.host, port = master.port)) { get("greeting") } shouldBe "hello"
        }

        test("in steady state the process holds exactly one connection to each sentinel, however many specs") {
            val other = spec.copy(database = 1, clientName = "other")
            picket.withConn(other) { set("k", "v") }
            picket.withConn(spec.preferReplica()) { get("k") }
            within(10) { topology.sentinels.forEach { Inspect.clientsNamed(it, "picket") shouldBe 1 } }
        }

        test("economy mode holds one sentinel connection in all") {
            Picket().use { economy ->
                economy.setSentinelGroups("eco" to topology.sentinelGroup().economy())
                economy.withConn(ConnSpec(sentinelGroup = "eco", masterName = masterName)) { get("greeting") } shouldBe
                    "hello"
                within(10) {
                    // One subscription per sentinel for the first instance, one in all for the economy one.
                    topology.sentinels.sumOf { Inspect.clientsNamed(it, "picket") } shouldBe 4
                }
            }
        }

        test("each mistake gets its own typed error naming what was wrong") {
            shouldThrow<SentinelGroupUnknownException> {
                picket.withConn(ConnSpec(sentinelGroup = "nope", masterName = "m")) { ping() }
            }.message shouldBe "sentinel group 'nope' is not declared (declared: main)"

            val unknown =
                shouldThrow<MasterNameUnknownException> { picket.withConn(spec.copy(masterName = "nobody")) { ping() } }
            unknown.message shouldContain "no sentinel of group 'main' monitors a master named 'nobody'"
            unknown.sentinels shouldHaveSize 3

            shouldThrow<InvalidSpecException> { ConnSpec(sentinelGroup = "", masterName = "m") }.message shouldContain
                "sentinel group is empty"
            shouldThrow<InvalidSpecException> { ConnSpec(sentinelGroup = "g", masterName = " ") }.message shouldContain
                "master name is blank"
            shouldThrow<InvalidSpecException> { ConnSpec(host = "h", port = 70000) }.message shouldContain "port 70000"
            shouldThrow<InvalidSpecException> { picket.addSentinelGroups("main" to topology.sentinelGroup()) }
                .message shouldBe "sentinel groups already declared: [main]"
        }

        test("a plain Redis port given as a sentinel and an unreachable one are each named with their cause") {
            val master = topology.awaitMaster(masterName)
            Picket().use { wrong ->
                val nothing = Address("127.0.0.1", 1)
                wrong.setSentinelGroups(
                    "wrong" to SentinelGroup(listOf(master.asAddress, nothing), password = "pw-never-shown"),
                )
                val error =
                    shouldThrow<SentinelsUnreachableException> {
                        wrong.withConn(ConnSpec(sentinelGroup = "wrong", masterName = masterName)) { ping() }
                    }
                error.failures.keys shouldContainExactlyInAnyOrder listOf(master.asAddress, nothing)
                error.message shouldContain "no sentinel of group 'wrong' resolved master '$masterName'"
                error.message shouldContain "$nothing: "
                error.message shouldNotContain "pw-never-shown"
            }
        }

        test("an IPv6 sentinel is named as [host]:port in errors, never URL-encoded") {
            Picket().use { v6 ->
                val sentinel = Address.parse("[::1]:1")
                sentinel shouldBe Address("::1", 1)
                v6.setSentinelGroups("v6" to SentinelGroup.of("[::1]:1"))
                val error =
                    shouldThrow<SentinelsUnreachableException> {
                        v6.withConn(ConnSpec(sentinelGroup = "v6", masterName = masterName)) { ping() }
                    }
                error.failures.keys shouldBe setOf(sentinel)
                error.message shouldContain "[::1]:1: Unable to connect to [::1]:1"
                error.message shouldNotContain "%3A"
                error.message shouldNotContain "%5B"
            }
        }

        test("a listener that throws does not stop the others, and a closed handle stops delivery") {
            val seen = mutableListOf<PicketEvent>()
            val thrower = picket.registerListener { error("listener bug") }
            val handle = picket.registerListener { synchronized(seen) { seen += it } }
            picket.invalidate(spec) shouldBe true
            picket.withConn(spec) { ping() }
            within(5) { synchronized(seen) { seen.filterIsInstance<PicketEvent.MasterResolved>() shouldHaveSize 1 } }
            handle.close()
            thrower.close()
            log.clear()
            picket.invalidate(spec) shouldBe true
            picket.withConn(spec) { ping() }
            log.await<PicketEvent.MasterResolved>()
            synchronized(seen) { seen.filterIsInstance<PicketEvent.MasterResolved>() shouldHaveSize 1 }
        }

        test("two specs on one master keep their own database and client name") {
            val zero = spec.copy(clientName = "zero")
            val one = spec.copy(database = 1, clientName = "one")
            picket.withConn(zero) { set("db-key", "in zero") }
            picket.withConn(one) { set("db-key", "in one") }
            picket.withConn(zero) { get("db-key") to clientGetname() } shouldBe ("in zero" to "zero")
            picket.withConn(one) { get("db-key") to clientGetname() } shouldBe ("in one" to "one")
        }

        test("a balancer that throws or picks a stranger fails the block with a typed error") {
            val throwing = spec.preferReplica(Balancer { error("no luck") })
            shouldThrow<BalancerException> { picket.withConn(throwing) { ping() } }.message shouldBe
                "the balancer of main/$masterName threw IllegalStateException: no luck"
            val stranger = spec.preferReplica(Balancer { Address("10.9.9.9", 6379) })
            shouldThrow<BalancerException> { picket.withConn(stranger) { ping() } }.message shouldContain
                "returned 10.9.9.9:6379, not one of"
        }

        test("with no healthy replica the master serves, or a typed error says why when falling back is off") {
            val master = topology.awaitMaster(masterName)
            val replicas = topology.dataNodes(masterName).filter { it != master }
            val strict =
                spec
                    .copy(
                        commandTimeout = java.time.Duration.ofSeconds(1),
                    ).preferReplica(fallbackToMaster = false)
            replicas.forEach { topology.pause(it) }
            try {
                // Until Sentinel flags them down (down-after 2 s) a paused replica can still be chosen and time out.
                val error = within(20) { shouldThrow<NoHealthyReplicaException> { picket.withConn(strict) { ping() } } }
                error.rejected.keys shouldContainExactlyInAnyOrder replicas.map { it.asAddress }
                error.rejected.values.forEach { it shouldContain "s_down" }
                error.message shouldContain "no healthy replica of '$masterName' in group 'main'"
                picket.withConn(spec.preferReplica()) { role().first() } shouldBe "master"
            } finally {
                replicas.forEach { topology.resume(it) }
            }
            topology.awaitMaster(masterName)
        }

        test("a block whose connection is lost midway runs again only when its spec is idempotent") {
            val master = topology.awaitMaster(masterName)
            picket.withConn(spec) { del("midway") }
            val error =
                shouldThrow<PicketException> {
                    picket.withConn(spec) {
                        incr("midway")
                        val id = clientId()!!
                        Inspect.on(master) { it.clientKill(KillArgs.Builder.id(id)) }
                        get("midway")
                    }
                }
            (error is ConnectionLostException || error is NodeConnectionException) shouldBe true
            error.message shouldContain master.asAddress.toString()
            picket.withConn(spec) { get("midway") } shouldBe "1"

            // Idempotent by the caller's word: the whole block runs again on a fresh connection (INCR runs twice).
            val idempotent = spec.copy(idempotent = true, clientName = "again")
            val killed = AtomicBoolean(false)
            val result =
                picket.withConn(idempotent) {
                    incr("midway")
                    if (killed.compareAndSet(false, true)) {
                        val id = clientId()!!
                        Inspect.on(master) { it.clientKill(KillArgs.Builder.id(id)) }
                    }
                    get("midway")
                }
            result shouldBe "3"
        }

        test("events are also a cold Flow that unregisters when collection stops") {
            val collected =
                coroutineScope {
                    val first = async { picket.events.filterIsInstance<PicketEvent.EntryInvalidated>().first() }
                    within(5) {
                        picket.withConn(spec) { ping() }
                        picket.invalidate(spec)
                        first.isCompleted shouldBe true
                    }
                    first.await()
                }
            collected.masterName shouldBe masterName
            collected.reason shouldBe "invalidated by hand"
        }

        test("a refused declaration leaves the registry as it was") {
            val before = picket.sentinelGroups()
            shouldThrow<InvalidSpecException> {
                picket.addSentinelGroups("fresh" to topology.sentinelGroup(), "main" to topology.sentinelGroup())
            }
            picket.sentinelGroups() shouldBe before
            shouldThrow<InvalidSpecException> { picket.setSentinelGroups(" " to topology.sentinelGroup()) }
            picket.sentinelGroups() shouldBe before
        }

        test("majority durability: 2 of 2 replicas confirm; with one paused the block fails saying 1 of 2") {
            val majority = spec.copy(durability = Durability.majority(Duration.ofMillis(300)))
            picket.withConn(majority) { set("majority", "1") } shouldBe "OK"
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }
            // Paused for well under the sentinels' down-after (2 s): nothing but this block notices.
            topology.pause(replica)
            val error =
                try {
                    shouldThrow<DurabilityException> { picket.withConn(majority) { set("majority", "2") } }
                } finally {
                    topology.resume(replica)
                }
            error.required shouldBe 2
            error.confirmed shouldBe 1
            error.message shouldBe "writes on ${master.asAddress} were confirmed by 1 of 2 required replicas"
            // The write did run on the master.
            picket.withConn(spec) { get("majority") } shouldBe "2"
        }

        test(
            "read-your-writes: a write then a replica read returns the write 1,000 times of 1,000, the replica lagging",
        ) {
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }
            val lagging = Balancer { healthy -> replica.asAddress.takeIf { it in healthy } ?: healthy.first() }
            val plain = spec.preferReplica(lagging)
            val consistent = plain.readYourWrites()
            // 20 MB through the replication link keep the replica busy for some milliseconds while it answers.
            val bulk = "x".repeat(20 * 1024 * 1024)
            // The control: without read-your-writes, a read right after a bulky write is stale; else the lag below
            // would prove nothing.
            val staleWithout =
                (1..10).count { i ->
                    picket.withConn(spec) {
                        set("ryw:bulk", bulk)
                        set("ryw:control", "$i")
                    }
                    picket.withConn(plain) { get("ryw:control") } != "$i"
                }
            staleWithout shouldBeGreaterThan 0

            var onReplica = 0
            var onMaster = 0
            for (i in 1..1000) {
                // Every 50th write follows a bulky one; every 100th is made while the replica is paused (SIGSTOP).
                if (i % 50 == 0) picket.withConn(spec) { set("ryw:bulk", bulk) }
                val paused = i % 100 == 25
                if (paused) topology.pause(replica)
                try {
                    picket.withConn(spec) { set("ryw:key", "$i") } shouldBe "OK"
                    val (value, role) = picket.withConn(consistent) { get("ryw:key") to role().first() }
                    value shouldBe "$i"
                    if (role == "master") onMaster++ else onReplica++
                } finally {
                    if (paused) topology.resume(replica)
                }
            }
            println(
                "read-your-writes: 1,000 of 1,000 reads saw their write: $onReplica on the replica, $onMaster master",
            )
            // The paused and the bulky rounds (at least the 10 paused ones) read the master; the others the replica.
            onMaster shouldBeGreaterThanOrEqual 10
            onReplica shouldBeGreaterThanOrEqual 500
        }

        test("read-your-writes without falling back: a paused replica fails the read with ReplicaBehindException") {
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }
            val strict =
                spec
                    .preferReplica({ healthy -> replica.asAddress.takeIf { it in healthy } ?: healthy.first() }, false)
                    .readYourWrites()
            picket.withConn(spec) { set("ryw:strict", "1") }
            picket.withConn(strict) { get("ryw:strict") } shouldBe "1"
            picket.withConn(spec) { set("ryw:strict", "2") }
            topology.pause(replica)
            val error =
                try {
                    shouldThrow<ReplicaBehindException> { picket.withConn(strict) { get("ryw:strict") } }
                } finally {
                    topology.resume(replica)
                }
            error.replica shouldBe replica.asAddress
            error.replicaOffset shouldBe null
            error.message shouldContain "replica ${replica.asAddress} of '$masterName' in group 'main' did not report"
            error.message shouldContain "reads must see offset ${error.requiredOffset}"
            within(5) { picket.withConn(strict) { get("ryw:strict") } shouldBe "2" }
            shouldThrow<InvalidSpecException> { spec.readYourWrites() }.message shouldBe
                "read-your-writes applies to replica reads; main/$masterName reads from the master"
        }

        test("AOF durability on a server without WAITAOF fails closed, saying so") {
            val aof = spec.withDurability(Durability.aof(false, 1, Duration.ofSeconds(1)))
            // This topology runs the test kit's default server: Debian's 7.0 or the embedded 6.2, or a newer one
            // named by PICKET_REDIS_SERVER, which has the command (AofDurabilitySpec covers that case).
            if (RedisBinary.compareVersions(topology.binary.version, "7.2") < 0) {
                val error = shouldThrow<DurabilityException> { picket.withConn(aof) { set("aof", "1") } }
                error.reason shouldBe "the master does not know WAITAOF (Redis 7.2 or later has it)"
                picket.withConn(spec) { get("aof") } shouldBe "1"
            } else {
                picket.withConn(aof) { set("aof", "1") } shouldBe "OK"
            }
        }
    })
