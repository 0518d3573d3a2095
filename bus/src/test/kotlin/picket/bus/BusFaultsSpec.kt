package picket.bus

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.lettuce.core.Range
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import picket.core.PicketClosedException
import picket.sentinel.testing.ChildJvm
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/**
 * The bus under faults (Redis errors, a paused master, blocking methods), on a topology of its own (1 master,
 * 1 replica, 3 sentinels) whose sentinels wait 10 s before calling a paused master down: no failover here.
 */
class BusFaultsSpec :
    FunSpec({
        lateinit var buses: Buses
        // Registered before the topology's extension, so run before it stops the topology (see BusSpec).
        afterSpec { buses.close() }
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 1
                downAfter = Duration.ofSeconds(10)
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        buses = Buses(topology, masterName)
        val spec = buses.spec
        val settings = buses.settings

        test("a Redis error when a call starts: the worker retries until repaired, answers it, and keeps serving") {
            withTimeout(30.seconds) {
                val service = buses.bus("startfail", prefix = "math_")
                service.register(MathService()::sum)
                val server = service.serve()
                val caller = buses.bus("startfail")
                caller.call("math_sum", 1, 2) shouldBe 3
                val proc = "picket:bus:{startfail}:proc:${service.instanceId}"
                onMaster(topology, masterName) { set(proc, "not a list") } // START's LPUSH now fails: WRONGTYPE
                val pending = caller.run("math_sum", listOf(2, 3), timeout = Duration.ofSeconds(8))
                // The fault lasts a while: each take fails to record the call as running and puts it back on its
                // queue (never run, never lost), and the worker backs off and takes again.
                delay(600)
                pending.isDone shouldBe false
                onMaster(topology, masterName) { del(proc) }
                pending.await() shouldBe 5
                server.isRunning shouldBe true
                caller.call("math_sum", 4, 4) shouldBe 8
                eventually(5.seconds) { server.handled shouldBe 3L } // counted before the reply is sent
            }
        }

        test("a reply refused by Redis for a second (WRONGTYPE on the reply list): retried, the call returns") {
            withTimeout(30.seconds) {
                // Not a paused master: commands written to a paused master's socket still run when it resumes, so a
                // client-side timeout does not fail a REPLY there. A Redis error does.
                val service = buses.bus("replyfail", prefix = "s_")
                val slow = Slow()
                service.register(slow::sleep, name = "s_sleep")
                service.serve()
                val caller = buses.bus("replyfail")
                val replies = "picket:bus:{replyfail}:replies:${caller.instanceId}"
                val pending = caller.run("s_sleep", listOf(300), timeout = Duration.ofSeconds(10))
                slow.started.await()
                onMaster(topology, masterName) { set(replies, "not a list") } // REPLY's LPUSH fails: WRONGTYPE
                delay(1_500) // the method ends meanwhile; its REPLY keeps failing
                onMaster(topology, masterName) { del(replies) }
                pending.await() shouldBe "slept"
            }
        }

        test(
            "cleanup() by a bus still open stays clean (two leases later, and after close); a dead caller's replies go",
        ) {
            withTimeout(30.seconds) {
                val service = buses.bus("tidy", prefix = "s_")
                val slow = Slow()
                service.register(slow::sleep, name = "s_sleep")
                service.serve()
                val caller = buses.bus("tidy")
                caller.call("s_sleep", 1) shouldBe "slept"
                // A caller that never registers, gives up on a call and dies: its reply comes later, into its list.
                val deadPicket = buses.newPicket()
                val dead = buses.bus("tidy", on = deadPicket)
                shouldThrow<CallTimeoutException> {
                    dead.call(
                        "s_sleep",
                        listOf(600),
                        timeout = Duration.ofMillis(200),
                    )
                }
                deadPicket.close()
                val deadReplies = "picket:bus:{tidy}:replies:${dead.instanceId}"
                eventually(5.seconds) { onMaster(topology, masterName) { exists(deadReplies) } shouldBe 1L }
                service.close()

                fun keys() = onMaster(topology, masterName) { keys("picket:bus:{tidy}:*") }
                caller.cleanup()
                keys().shouldBeEmpty()
                delay(3_000) // two leases: the caller's heartbeat ran meanwhile
                keys().shouldBeEmpty()
                caller.close()
                keys().shouldBeEmpty()
            }
        }

        test("blocking methods, more at once than cores, each longer than the lease: the service keeps its lease") {
            withTimeout(40.seconds) {
                val service = buses.bus("blocking", prefix = "b_")
                service.register(Blocker()::block, name = "b_block")
                service.serve(concurrency = 2 * Runtime.getRuntime().availableProcessors() + 2)
                val caller = buses.bus("blocking")
                eventually(5.seconds) { caller.method("b_block")!!.workers shouldBe 1 }
                // Watched from a thread of its own through a plain client: the service's worker lease, by the master's
                // clock.
                val lapses = AtomicInteger()
                val watching = AtomicBoolean(true)
                val watcher =
                    thread(name = "lease-watcher") {
                        plain.on(topology.currentMaster(masterName)) { redis ->
                            while (watching.get()) {
                                val (s, us) = redis.time()
                                val now = s.toLong() * 1_000 + us.toLong() / 1_000
                                val live =
                                    redis.zcount(
                                        "picket:bus:{blocking}:workers:b_block",
                                        Range.create(now.toDouble(), Double.MAX_VALUE),
                                    )
                                if (live == 0L) lapses.incrementAndGet()
                                Thread.sleep(50)
                            }
                        }
                    }
                try {
                    val results =
                        coroutineScope {
                            List(2 * Runtime.getRuntime().availableProcessors() + 2) {
                                async { caller.call("b_block", listOf(2_500L), timeout = Duration.ofSeconds(20)) }
                            }.awaitAll()
                        }
                    results.toSet() shouldBe setOf("blocked")
                } finally {
                    watching.set(false)
                    watcher.join()
                }
                lapses.get() shouldBe 0
                caller.method("b_block")!!.workers shouldBe 1
            }
        }

        test("the master paused longer than the lease: nobody is reaped, running calls return, services stay listed") {
            withTimeout(40.seconds) {
                val slowA = Slow()
                val slowB = Slow()
                val a = buses.bus("outage", prefix = "a_")
                a.register(slowA::sleep, name = "a_sleep")
                a.serve()
                val b = buses.bus("outage", prefix = "b_")
                b.register(slowB::sleep, name = "b_sleep")
                b.serve()
                val caller = buses.bus("outage")
                val callA = caller.run("a_sleep", listOf(4_000), timeout = Duration.ofSeconds(20))
                val callB = caller.run("b_sleep", listOf(4_000), timeout = Duration.ofSeconds(20))
                slowA.started.await()
                slowB.started.await()
                val master = topology.currentMaster(masterName)
                topology.pause(master)
                try {
                    delay(2_500) // the outage: longer than the 1.5 s lease, shorter than the sentinels' 10 s down-after
                } finally {
                    topology.resume(master)
                }
                callA.await() shouldBe "slept"
                callB.await() shouldBe "slept"
                caller.methods().map { it.name to it.workers } shouldBe listOf("a_sleep" to 1, "b_sleep" to 1)
            }
        }

        test(
            "deadlines skip, timeouts typed, a cached value with no server, exceptions not cached, TTL then run again",
        ) {
            withTimeout(40.seconds) {
                val service = buses.bus("edges", prefix = "e_")
                val counted = Counted()
                service.register(counted::sum, name = "e_sum", cacheKey = "{a}/{b}", cacheTtl = Duration.ofSeconds(2))
                service.register(counted::div, name = "e_div", cacheKey = "{a}/{b}")
                service.register(Slow()::sleep, name = "e_sleep")
                val caller = buses.bus("edges")

                // Queued while nothing serves, 300 ms to live: nobody answers; a server started once the request's
                // deadline has passed on the master's clock skips it, never runs it.
                shouldThrow<NoWorkerException> { caller.call("e_sum", listOf(1, 2), timeout = Duration.ofMillis(300)) }
                    .message shouldBe "no worker serves bus method 'e_sum': nothing answered within 300 ms"
                val queued = onMaster(topology, masterName) { lindex("picket:bus:{edges}:q:e_sum", 0) }
                val deadline = Regex("\"deadline\":(\\d+)").find(queued!!)!!.groupValues[1].toLong()
                eventually(5.seconds) {
                    val time = onMaster(topology, masterName) { time() }
                    (time[0].toLong() * 1000 + time[1].toLong() / 1000) shouldBeGreaterThan deadline
                }
                val first = service.serve()
                eventually(5.seconds) { first.skipped shouldBe 1L }
                counted.sums.get() shouldBe 0
                first.handled shouldBe 0L

                // A live worker that is too slow: CallTimeoutException.
                shouldThrow<CallTimeoutException> {
                    caller.call("e_sleep", listOf(2_000), timeout = Duration.ofMillis(300))
                }.message shouldBe "bus method 'e_sleep' did not answer within 300 ms"

                // Exceptions are not cached: the function runs each time.
                shouldThrow<RemoteException> { caller.call("e_div", 1, 0) }.remoteMessage shouldBe "1 / 0"
                shouldThrow<RemoteException> { caller.call("e_div", 1, 0) }.remoteMessage shouldBe "1 / 0"
                counted.divs.get() shouldBe 2

                // Cached: answered with no server running; after its TTL the worker runs again.
                caller.call("e_sum", 2, 3) shouldBe 5
                counted.sums.get() shouldBe 1
                first.stop() // takes up to a blocking read's second
                caller.call("e_sum", listOf(2, 3), timeout = Duration.ofMillis(300)) shouldBe 5
                counted.sums.get() shouldBe 1
                eventually(5.seconds) {
                    onMaster(topology, masterName) { exists("picket:bus:{edges}:cache:e_sum:2/3") } shouldBe 0L
                }
                service.serve()
                caller.call("e_sum", 2, 3) shouldBe 5
                counted.sums.get() shouldBe 2
            }
        }

        test("a bus whose Picket is closed under it stops its loops and closes: no retrying forever") {
            withTimeout(20.seconds) {
                val own = buses.newPicket()
                val service = buses.bus("orphan", prefix = "x_", on = own)
                service.register(MathService()::sum, name = "x_sum")
                val server = service.serve()
                service.call("x_sum", 1, 2) shouldBe 3
                own.close()
                eventually(10.seconds) { server.isRunning shouldBe false }
                shouldThrow<PicketClosedException> { service.call("x_sum", 1, 2) }
            }
        }

        test("cache keys cannot collide; a cancelled caller's queued request is taken back and never runs") {
            withTimeout(20.seconds) {
                val service = buses.bus("keys", prefix = "k_")
                val counted = Counted()
                service.register(Keyed::join, name = "k_join", cacheKey = "{a}/{b}")
                service.register(Keyed::kind, name = "k_kind", cacheKey = "{x}")
                service.register(counted::sum, name = "k_sum")
                val caller = buses.bus("keys")

                // Queued while nothing serves, then cancelled: the request leaves the queue. Ten times: the cancel
                // often lands after the call script ran but before the caller read its reply (the caller's resumption
                // queues behind this coroutine's on the one test thread), when the request is known only from that
                // reply; the caller reads it all the same and takes the request back.
                val picket = buses.newPicket()
                repeat(10) {
                    val call = async { caller.call("k_sum", 1, 2) }
                    eventually(5.seconds) { picket.withConn(spec) { llen("picket:bus:{keys}:q:k_sum") } shouldBe 1L }
                    call.cancel()
                    shouldThrow<CancellationException> { call.await() }
                    eventually(5.seconds) { picket.withConn(spec) { llen("picket:bus:{keys}:q:k_sum") } shouldBe 0L }
                }

                val server = service.serve()
                caller.call("k_join", "1/2", "3") shouldBe "1/2+3"
                caller.call("k_join", "1", "2/3") shouldBe "1+2/3"
                caller.call("k_kind", 1) shouldBe "Integer"
                caller.call("k_kind", "1") shouldBe "String"
                eventually(5.seconds) { server.handled shouldBe 4L }
                counted.sums.get() shouldBe 0
            }
        }

        test("registerMethod(target, methodName): a plain method by reflection; typed errors for none or overloads") {
            withTimeout(20.seconds) {
                val service = buses.bus("reflect", prefix = "r_")
                service.registerMethod(Counted(), "sum") shouldBe "r_sum"
                shouldThrow<InvalidRegistrationException> {
                    service.registerMethod(
                        Counted(),
                        "nope",
                    )
                }.message shouldBe
                    "bus method 'r_nope' cannot be registered: picket.bus.Counted has no public method named 'nope'"
                shouldThrow<InvalidRegistrationException> {
                    service.registerMethod(
                        Overloaded(),
                        "f",
                    )
                }.message shouldBe
                    "bus method 'r_f' cannot be registered: picket.bus.Overloaded has 2 public methods named 'f' " +
                    "(overloads): register one through a MethodDefinition"
                service.serve()
                val caller = buses.bus("reflect")
                caller.method("r_sum")!!.params.map { it.name } shouldBe listOf("a", "b")
                caller.call("r_sum", 20, 22) shouldBe 42
            }
        }

        test(
            "a worker JVM killed with SIGKILL mid-call: the caller gets WorkerLostException within 3 leases, no hang",
        ) {
            withTimeout(15.seconds) {
                val sentinels = topology.sentinels.joinToString(",") { "${it.host}:${it.port}" }
                val lease = settings.lease.toMillis().toString()
                ChildJvm.start(KillableBusWorker::class, sentinels, masterName, "killed", lease).use { worker ->
                    val child = worker.process
                    val instance = worker.line("started ", 10.seconds).removePrefix("started ")
                    val caller = buses.bus("killed")
                    val call = caller.run("kill_hold", emptyList(), timeout = Duration.ofSeconds(15))
                    worker.line("running", 10.seconds)
                    val killed = System.nanoTime()
                    worker.kill()
                    val lost = shouldThrow<WorkerLostException> { call.await() }
                    val after = (System.nanoTime() - killed) / 1_000_000
                    println("WorkerLostException $after ms after SIGKILL (lease ${settings.lease.toMillis()} ms)")
                    lost.method shouldBe "kill_hold"
                    lost.message shouldBe
                        "the worker running bus method 'kill_hold' was lost: " +
                        "its lease ran out with the call running (instance $instance)"
                    after shouldBeLessThan 3 * settings.lease.toMillis() + 2_000L
                    child.waitFor(5, TimeUnit.SECONDS) shouldBe true
                    child.isAlive shouldBe false
                    child.exitValue() shouldBe 137 // SIGKILL
                }
            }
        }
    })

/** A plain method that blocks its thread. */
class Blocker {
    fun block(ms: Long): String {
        Thread.sleep(ms)
        return "blocked"
    }
}

/** Counts its runs: a cached sum, a division that throws for zero. */
class Counted {
    val sums = AtomicInteger()
    val divs = AtomicInteger()

    fun sum(
        a: Int,
        b: Int,
    ): Int {
        sums.incrementAndGet()
        return a + b
    }

    fun div(
        a: Int,
        b: Int,
    ): Int {
        divs.incrementAndGet()
        if (b == 0) throw ArithmeticException("$a / $b")
        return a / b
    }
}

/** Cached methods whose arguments could collide in a naive cache key. */
object Keyed {
    fun join(
        a: String,
        b: String,
    ): String = "$a+$b"

    fun kind(x: Any): String = x::class.java.simpleName
}

/** Two public methods of one name. */
class Overloaded {
    fun f(a: Int): Int = a

    fun f(a: String): String = a
}
