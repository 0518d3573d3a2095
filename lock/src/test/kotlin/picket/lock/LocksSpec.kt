package picket.lock

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.sentinel.testing.sentinelGroup
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** Locks on a real topology. */
class LocksSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
        val locks = picket.locks(spec)
        afterSpec {
            locks.close()
            picket.close()
        }
        val second = Duration.ofSeconds(1)

        test("mutual exclusion: 4 instances x 25 coroutines, 2,000 non-atomic increments, exactly 2,000") {
            val instances = (1..4).map { Picket().also { it.setSentinelGroups("main" to topology.sentinelGroup()) } }
            val perInstance = instances.map { it.locks(spec) }
            try {
                picket.withConn(spec) { set("mutex:counter", "0") }
                val started = System.nanoTime()
                coroutineScope {
                    perInstance
                        .flatMap { instanceLocks ->
                            (1..25).map {
                                async {
                                    repeat(20) {
                                        instanceLocks.withLock("mutex", Duration.ofSeconds(5), Duration.ofSeconds(60)) {
                                            val value = picket.withConn(spec) { get("mutex:counter") }!!.toInt()
                                            picket.withConn(spec) { set("mutex:counter", "${value + 1}") }
                                        }
                                    }
                                }
                            }
                        }.awaitAll()
                }
                println("2,000 increments under the lock in ${(System.nanoTime() - started) / 1_000_000} ms")
                picket.withConn(spec) { get("mutex:counter") } shouldBe "2000"
            } finally {
                perInstance.forEach { it.close() }
                instances.forEach { it.close() }
            }
        }

        test("expiry, release by a non-owner, extend, a look at the holder; fencing tokens increase") {
            // Held 2 s: long enough that no stall of a loaded machine lets it expire before it is extended.
            val lease = locks.acquire("basics", Duration.ofSeconds(2), Duration.ZERO).shouldNotBeNull()
            val holder = locks.holder("basics").shouldNotBeNull()
            holder.fencingToken shouldBe lease.fencingToken
            holder.remaining shouldBeGreaterThan Duration.ZERO
            // Another owner cannot take it, release it or extend it.
            locks.acquire("basics", second, Duration.ZERO).shouldBeNull()
            val stranger = lease.copy(owner = "someone-else")
            shouldThrow<NotLockOwnerException> { locks.release(stranger) }.message shouldBe
                "lock 'basics' is held by another owner: release refused"
            shouldThrow<NotLockOwnerException> { locks.extend(stranger) }
            val extended = locks.extend(lease, Duration.ofSeconds(4))
            extended.expiresAt shouldBeGreaterThan lease.expiresAt
            locks.holder("basics")!!.remaining shouldBeGreaterThan Duration.ofMillis(2_000)
            locks.release(extended) shouldBe true
            locks.holder("basics").shouldBeNull()
            locks.release(extended) shouldBe false

            // Expiry is the server's: after it, another owner gets it, with a larger fencing token.
            val short = locks.acquire("basics", Duration.ofMillis(200), Duration.ZERO).shouldNotBeNull()
            short.fencingToken shouldBeGreaterThan lease.fencingToken
            val next = locks.acquire("basics", second, Duration.ofSeconds(2)).shouldNotBeNull()
            next.fencingToken shouldBeGreaterThan short.fencingToken
            // The expired lease now belongs to another owner; once that one is gone too, it is simply lost.
            shouldThrow<NotLockOwnerException> { locks.extend(short) }
            locks.release(next) shouldBe true
            shouldThrow<LockLostException> { locks.extend(short) }.message shouldBe
                "lock 'basics' lost: it expired before it was extended"
        }

        test("waiting is bounded by its wait time and wakes promptly on release") {
            val held = locks.acquire("wait", Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
            val began = System.nanoTime()
            locks.acquire("wait", second, Duration.ofMillis(300)).shouldBeNull()
            Duration.ofNanos(System.nanoTime() - began) shouldBeGreaterThan Duration.ofMillis(290)
            shouldThrow<LockNotAcquiredException> {
                locks.withLock("wait", second, Duration.ofMillis(100)) { "never" }
            }.message shouldBe "lock 'wait' not acquired within 100 ms: held by another owner"
            locks.withLockOrNull("wait", second, Duration.ofMillis(100)) { "never" }.shouldBeNull()

            // A poll interval of a minute: only the hand-over's message can explain a prompt wake.
            val patient = picket.locks(spec, LockOptions(pollInterval = Duration.ofSeconds(60)))
            try {
                coroutineScope {
                    // Its hold of a minute keeps its check for a missed hand-over (every half hold) out of the way.
                    val waiter = async { patient.acquire("wait", Duration.ofSeconds(60), Duration.ofSeconds(10)) }
                    eventually(10.seconds) { locks.holder("wait")!!.queued shouldBe 1 }
                    val released = System.nanoTime()
                    locks.release(held) shouldBe true
                    val lease = waiter.await().shouldNotBeNull()
                    val wokeIn = Duration.ofNanos(System.nanoTime() - released)
                    println("a waiter acquired the lock ${wokeIn.toMillis()} ms after its release")
                    wokeIn shouldBeLessThan Duration.ofMillis(200)
                    lease.fencingToken shouldBeGreaterThan held.fencingToken
                    locks.holder("wait")!!.queued shouldBe 0
                    patient.release(lease) shouldBe true
                }
            } finally {
                patient.close()
            }
        }

        test("waiters of several instances are served in arrival order; one that left or died is skipped") {
            val instances = (1..3).map { Picket().also { it.setSentinelGroups("main" to topology.sentinelGroup()) } }
            val perInstance = instances.map { it.locks(spec) }
            try {
                val held = locks.acquire("fifo", Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
                // A waiter whose process died: its entry is in the queue, and it renews it no more.
                picket.withConn(spec) {
                    rpush("picket:lock:fifo:queue", "ghost")
                    hset("picket:lock:fifo:waiting", "ghost", "10000:1")
                }
                val order = java.util.concurrent.ConcurrentLinkedQueue<String>()
                coroutineScope {
                    val callers = listOf("A1" to 0, "B1" to 1, "C1" to 2, "A2" to 0, "B2" to 1)
                    val jobs =
                        callers.mapIndexed { i, (caller, instance) ->
                            val job =
                                launch {
                                    perInstance[instance].withLock("fifo", second, Duration.ofSeconds(20)) {
                                        order += caller
                                    }
                                }
                            // Each queued before the next arrives; the ghost counts too.
                            eventually(10.seconds) { locks.holder("fifo")!!.queued shouldBe i + 2 }
                            job
                        }
                    // One that gives up leaves the queue at once.
                    val quitter = launch { perInstance[2].acquire("fifo", second, Duration.ofSeconds(20)) }
                    eventually(10.seconds) { locks.holder("fifo")!!.queued shouldBe 7 }
                    quitter.cancel()
                    eventually(10.seconds) { locks.holder("fifo")!!.queued shouldBe 6 }
                    locks.release(held) shouldBe true
                    jobs.forEach { it.join() }
                }
                order.toList() shouldBe listOf("A1", "B1", "C1", "A2", "B2")
                locks.holder("fifo").shouldBeNull()
                picket.withConn(spec) { exists("picket:lock:fifo:queue", "picket:lock:fifo:waiting") } shouldBe 0L
            } finally {
                perInstance.forEach { it.close() }
                instances.forEach { it.close() }
            }
        }

        test("the watchdog keeps a lease for a block 5x its hold time, and cancels the block when the lease is lost") {
            // Held 1 s and extended every third of it, each extension given a third to answer: a stall of a
            // loaded machine must last over half a second to lose it (with 300 ms, 200 ms did).
            val result =
                locks.withLock("dog", Duration.ofSeconds(1), Duration.ZERO) { lease ->
                    delay(5_000)
                    locks.holder("dog")!!.fencingToken shouldBe lease.fencingToken
                    "done"
                }
            result shouldBe "done"
            locks.holder("dog").shouldBeNull()

            val reached = CompletableDeferred<Unit>()
            val lost =
                shouldThrow<LockLostException> {
                    locks.withLock("dog", Duration.ofMillis(300), Duration.ZERO) {
                        picket.withConn(spec) { del("picket:lock:dog") }
                        reached.complete(Unit)
                        delay(5_000)
                        "not reached"
                    }
                }
            reached.isCompleted shouldBe true
            lost.message shouldContain "lock 'dog' lost"

            // Without the watchdog the lease just expires, and the release says so.
            shouldThrow<LockLostException> {
                locks.withLock("dog", Duration.ofMillis(100), Duration.ZERO, watchdog = false) { delay(300) }
            }.message shouldBe "lock 'dog' lost: it had expired when released"
            // The block's own exception wins; the loss is attached.
            val own =
                shouldThrow<IllegalStateException> {
                    locks.withLock("dog", Duration.ofMillis(100), Duration.ZERO, watchdog = false) {
                        delay(300)
                        error("the block's own")
                    }
                }
            own.suppressed.single().shouldBeInstanceOf<LockLostException>()
        }

        test("a wait time of 0 makes one attempt; 100 waiters do not slow GETs on the same spec") {
            val held = locks.acquire("crowd", Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
            val master = topology.awaitMaster(masterName)

            suspend fun evals(): Long =
                picket
                    .withConn(ConnSpec(host = master.host, port = master.port)) { info("commandstats") }!!
                    .lines()
                    .filter { it.startsWith("cmdstat_eval:") || it.startsWith("cmdstat_evalsha:") }
                    .sumOf { it.substringAfter("calls=").substringBefore(",").toLong() }
            val before = evals()
            locks.acquire("crowd", second, Duration.ZERO).shouldBeNull()
            evals() - before shouldBe 1L

            picket.withConn(spec) { set("crowd:probe", "1") }
            coroutineScope {
                val crowd =
                    (1..100).map {
                        launch { locks.acquire("crowd", second, Duration.ofSeconds(3)) }
                    }
                // Every waiter queued (each on the server, none holding a connection) before the GETs are timed.
                eventually(10.seconds) { locks.holder("crowd")!!.queued shouldBe 100 }
                var slowest = Duration.ZERO
                repeat(200) {
                    val begin = System.nanoTime()
                    picket.withConn(spec) { get("crowd:probe") } shouldBe "1"
                    slowest = maxOf(slowest, Duration.ofNanos(System.nanoTime() - begin))
                }
                println("200 GETs beside 100 waiters: slowest ${slowest.toMillis()} ms")
                slowest shouldBeLessThan Duration.ofMillis(200)
                crowd.forEach { it.join() }
            }
            locks.release(held) shouldBe true
        }

        test("bad input is refused with typed errors") {
            shouldThrow<InvalidSpecException> { locks.acquire(" ", second, second) }.message shouldBe
                "lock name is blank"
            shouldThrow<InvalidSpecException> { locks.acquire("x", Duration.ZERO, second) }.message shouldBe
                "lock 'x' holdFor is PT0S, must be at least 1 ms"
            shouldThrow<InvalidSpecException> { locks.acquire("x", second, Duration.ofMillis(-1)) }.message shouldBe
                "lock 'x' waitFor is PT-0.001S, must be >= 0"
            shouldThrow<InvalidSpecException> { LockOptions(pollInterval = Duration.ZERO) }
        }

        test("a holder paused past its expiry has its block cancelled with lock lost") {
            val master = topology.awaitMaster(masterName)
            val reached = CompletableDeferred<Unit>()
            val began = System.nanoTime()
            val lost =
                shouldThrow<LockLostException> {
                    locks.withLock("paused", Duration.ofMillis(600), Duration.ZERO) {
                        // The master stops answering (shorter than down-after: no failover): no extension succeeds.
                        topology.pause(master)
                        try {
                            reached.complete(Unit)
                            delay(1_500)
                        } finally {
                            topology.resume(master)
                        }
                        "not reached"
                    }
                }
            reached.isCompleted shouldBe true
            lost.message shouldContain "not extended within its hold time"
            Duration.ofNanos(System.nanoTime() - began) shouldBeLessThan Duration.ofSeconds(10)
            eventually(10.seconds) { locks.holder("paused").shouldBeNull() }
        }

        test("a durable acquisition is on the replicas before the lease is handed out") {
            val durable = picket.locks(spec, LockOptions(acquireDurability = Durability.allReplicas(second)))
            try {
                val lease = durable.acquire("durable", Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
                val master = topology.awaitMaster(masterName)
                topology.dataNodes(masterName).filter { it != master }.forEach { replica ->
                    picket.withConn(ConnSpec(host = replica.host, port = replica.port)) {
                        hget("picket:lock:durable", "counter")
                    } shouldBe "${lease.fencingToken and 0xFFFFFFFFFFL}"
                }
                durable.release(lease) shouldBe true

                // Handed over by a release that did not wait for the replicas: the waiter confirms it before it
                // returns.
                val held = locks.acquire("durable", Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
                coroutineScope {
                    val waiter = async { durable.acquire("durable", Duration.ofSeconds(10), Duration.ofSeconds(10)) }
                    eventually(10.seconds) { locks.holder("durable")!!.queued shouldBe 1 }
                    locks.release(held) shouldBe true
                    val handed = waiter.await().shouldNotBeNull()
                    handed.fencingToken shouldBeGreaterThan held.fencingToken
                    val master = topology.awaitMaster(masterName)
                    topology.dataNodes(masterName).filter { it != master }.forEach { replica ->
                        picket.withConn(ConnSpec(host = replica.host, port = replica.port)) {
                            hget("picket:lock:durable", "owner")
                        } shouldBe handed.owner
                    }
                    durable.release(handed) shouldBe true

                    // A replica that cannot confirm (paused): the hand-over is not taken; the waiter fails with the
                    // durability error and gives the lock on (here: free again).
                    val again = locks.acquire("durable", Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
                    val replica = topology.dataNodes(masterName).first { it != master }
                    val refused =
                        async {
                            shouldThrow<picket.core.DurabilityException> {
                                durable.acquire("durable", Duration.ofSeconds(10), Duration.ofSeconds(10))
                            }
                        }
                    eventually(10.seconds) { locks.holder("durable")!!.queued shouldBe 1 }
                    topology.pause(replica)
                    try {
                        locks.release(again) shouldBe true
                        refused.await().message shouldContain "confirmed by 1 of 2 required replicas"
                    } finally {
                        topology.resume(replica)
                    }
                    eventually(10.seconds) { locks.holder("durable").shouldBeNull() }
                }
            } finally {
                durable.close()
            }
        }

        test("fencing tokens never go backwards across a manual failover and a kill -9 failover") {
            var last = 0L
            var taken = 0
            val errors = mutableListOf<String>()
            for (fault in listOf("manual", "kill")) {
                val old = topology.awaitMaster(masterName)
                coroutineScope {
                    val loop =
                        launch {
                            while (true) {
                                try {
                                    val lease = locks.acquire("fence", second, Duration.ofMillis(200))
                                    if (lease != null) {
                                        lease.fencingToken shouldBeGreaterThan last
                                        last = lease.fencingToken
                                        taken++
                                        runCatching { locks.release(lease) }
                                    }
                                } catch (e: kotlinx.coroutines.CancellationException) {
                                    throw e
                                } catch (
                                    @Suppress("TooGenericExceptionCaught") e: Exception,
                                ) {
                                    // Expected while the master is switched: typed failures, no token handed out.
                                    errors += e::class.simpleName.orEmpty()
                                    delay(20)
                                }
                            }
                        }
                    // The loop runs before the fault.
                    eventually(10.seconds) { taken shouldBeGreaterThan 20 }
                    if (fault == "manual") topology.failover(masterName) else topology.kill(old)
                    topology.awaitMaster(masterName, notEqualTo = old)
                    val before = taken
                    eventually(10.seconds) { taken shouldBeGreaterThan before + 20 }
                    loop.cancel()
                }
                if (fault == "kill") topology.restart(old)
            }
            println("fencing: $taken leases, last token $last (epoch ${last shr 40}), errors ${errors.toSet()}")
            (last shr 40) shouldBeGreaterThan 0L
        }
    })
