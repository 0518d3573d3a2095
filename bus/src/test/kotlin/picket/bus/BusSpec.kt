package picket.bus

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldHaveLength
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.ScanArgs
import io.lettuce.core.ScanCursor
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketException
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/** The bus on one real topology (1 master, 1 replica, 3 sentinels); the failover is the last test. */
class BusSpec :
    FunSpec({
        lateinit var buses: Buses
        // Registered before the topology's extension, so run before it stops the topology: the buses' Picket
        // instances must not outlive their sentinels (their subscriptions would reconnect meanwhile, Lettuce warning).
        afterSpec { buses.close() }
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        buses = Buses(topology, masterName)
        val picket = buses.newPicket()
        val spec = buses.spec

        test("two services and a caller that discovers both; a method registered later is discovered at once") {
            withTimeout(30.seconds) {
                val rng = buses.bus("playground", prefix = "random_")
                rng.register(Rng::uuid)
                rng.register(Rng::password)
                val math = buses.bus("playground", prefix = "math_")
                val service = MathService()
                math.register(service::sum, cacheKey = "{a}/{b}")
                rng.serve()
                math.serve(concurrency = 2)

                val caller = buses.bus("playground")
                caller.methods().map { it.name } shouldBe listOf("math_sum", "random_password", "random_uuid")
                val password = caller.methods().single { it.name == "random_password" }
                password.params shouldBe listOf(ParamInfo("length", "Int", required = false, hasDefault = false, null))
                password.workers shouldBe 1
                (caller.call("random_uuid") as String) shouldHaveLength 32
                (caller.call("random_password") as String) shouldHaveLength 12
                (caller.call("random_password", 20) as String) shouldHaveLength 20
                caller.call("random_password", emptyList(), mapOf("length" to 5)).toString() shouldHaveLength 5
                caller.call("math_sum", 1, 2) shouldBe 3
                caller.callAs<Long>("math_sum", 40, 2) shouldBe 42L

                // Registered after the caller listed the methods: the caller's next call finds it.
                rng.register(Rng::int)
                rng.serve("random_int")
                caller.call("random_int", emptyList(), mapOf("from" to 5, "until" to 6)) shouldBe 5
                caller.method("random_int")!!.params.map { it.name } shouldBe listOf("from", "until")

                // A handle awaited twice gives the same value.
                val handle = caller.run("random_uuid")
                handle.await() shouldBe handle.await()
                handle.isDone shouldBe true
            }
        }

        test("the seed's cache: math_now(1) twice is one value, math_now(2) another, clearCache(1) a new one; TTL") {
            withTimeout(30.seconds) {
                val math = buses.bus("cache", prefix = "math_")
                val service = MathService()
                math.register(service::now, cacheKey = "{seed}", cacheTtl = Duration.ZERO)
                math.register(
                    service::sum,
                    name = "math_brief",
                    cacheKey = "{a}/{b}",
                    cacheTtl = Duration.ofMillis(400),
                )
                math.serve()
                val caller = buses.bus("cache")
                val first = caller.callAs<Instant>("math_now", 1)
                caller.callAs<Instant>("math_now", 1) shouldBe first
                caller.call("math_now", emptyList(), mapOf("seed" to 1)) shouldBe first.toString()
                service.nowCalls.get() shouldBe 1
                val other = caller.callAs<Instant>("math_now", 2)
                other shouldNotBe first
                caller.clearCache("math_now", 1) shouldBe true
                caller.clearCache("math_now", 1) shouldBe false
                val fresh = caller.callAs<Instant>("math_now", 1)
                fresh shouldNotBe first
                caller.callAs<Instant>("math_now", 1) shouldBe fresh
                service.nowCalls.get() shouldBe 3

                // TTL: the entry lives 400 ms on the master, then the worker runs again.
                caller.call("math_brief", 2, 3) shouldBe 5
                picket.withConn(spec) { pttl("picket:bus:{cache}:cache:math_brief:2/3")!! } shouldBeLessThan 401L
                eventually(5.seconds) {
                    picket.withConn(spec) { exists("picket:bus:{cache}:cache:math_brief:2/3") } shouldBe 0L
                }
                picket.withConn(spec) { ttl("picket:bus:{cache}:cache:math_now:1") } shouldBe -1L
            }
        }

        test("a worker checks the cache again before running a queued call: two calls, one run") {
            withTimeout(30.seconds) {
                val math = buses.bus("recheck", prefix = "math_")
                val service = MathService()
                math.register(service::square, cacheKey = "{x}")
                math.serve(concurrency = 1)
                val caller = buses.bus("recheck")
                val results = coroutineScope { (1..2).map { async { caller.call("math_square", 7) } }.awaitAll() }
                results shouldBe listOf(49, 49)
                service.squareCalls.get() shouldBe 1
            }
        }

        test("a busy worker takes queued calls one step each: expired ones dropped, FIFO per method, fair, recorded") {
            withTimeout(60.seconds) {
                val service = buses.bus("step", prefix = "rec_")
                val gate = Gate()
                val recorder = Recorder()
                service.register(gate::hold)
                service.register(recorder::a)
                service.register(recorder::b)
                val server = service.serve(concurrency = 1)
                val caller = buses.bus("step")
                val root = "picket:bus:{step}:"

                suspend fun queued(
                    method: String,
                    length: Long,
                ) = eventually(10.seconds) { picket.withConn(spec) { llen(root + "q:" + method) } shouldBe length }
                val first = caller.run("rec_hold", emptyList())
                gate.entered.receive()
                // Queued behind the held call: one whose caller gives up first, then a, b and another held call.
                val expired = caller.run("rec_a", listOf(0), timeout = Duration.ofMillis(300))
                queued("rec_a", 1)
                val calls = mutableListOf<BusCall>()
                for (n in 1..3) {
                    calls += caller.run("rec_a", listOf(n))
                    queued("rec_a", n + 1L)
                }
                for (n in 1..2) {
                    calls += caller.run("rec_b", listOf(n))
                    queued("rec_b", n.toLong())
                }
                val second = caller.run("rec_hold", emptyList())
                queued("rec_hold", 1)
                shouldThrow<CallTimeoutException> { expired.await() }

                gate.release.send(Unit)
                first.await() shouldBe "held"
                // The second held call was taken by a step: recorded as running on the instance while it runs.
                gate.entered.receive()
                val running = picket.withConn(spec) { lrange(root + "proc:" + service.instanceId, 0, -1) }
                running.size shouldBe 1
                running.single() shouldContain "\"method\":\"rec_hold\""
                gate.release.send(Unit)
                second.await() shouldBe "held"
                calls.map { it.await() } shouldBe listOf(1, 2, 3, 1, 2)

                server.skipped shouldBe 1L
                // The expired call never ran. (FIFO per method: the next spec, six calls per method.)
                recorder.seen.filter { it.startsWith("a") } shouldBe listOf("a1", "a2", "a3")
                // Fair: the queues' order rotates per take, so b1 runs before a2 whatever the rotation.
                (recorder.seen.indexOf("b1") < recorder.seen.indexOf("a2")) shouldBe true
                picket.withConn(spec) { llen(root + "proc:" + service.instanceId) } shouldBe 0L
            }
        }

        test("FIFO within a method, and fair across methods: one worker alternates between two full queues") {
            withTimeout(30.seconds) {
                val service = buses.bus("order", prefix = "o_")
                val recorder = Recorder()
                service.register(recorder::a, name = "o_a")
                service.register(recorder::b, name = "o_b")
                val caller = buses.bus("order")
                val picket = buses.newPicket()
                val calls = mutableListOf<BusCall>()
                // All of o_a's calls are queued before any of o_b's, each queued before the next is sent.
                for ((method, n) in (0 until 6).map { "o_a" to it } + (0 until 6).map { "o_b" to it }) {
                    calls += caller.run(method, listOf(n))
                    eventually(5.seconds) {
                        picket.withConn(spec) { llen("picket:bus:{order}:q:$method") } shouldBe n + 1L
                    }
                }
                service.serve(concurrency = 1)
                calls.forEach { it.await() }
                val ran = recorder.seen.toList()
                ran.filter { it.startsWith("a") } shouldBe (0 until 6).map { "a$it" }
                ran.filter { it.startsWith("b") } shouldBe (0 until 6).map { "b$it" }
                ran
                    .map { it[0] }
                    .zipWithNext()
                    .filter { (x, y) -> x == y }
                    .shouldBeEmpty()
            }
        }

        test("an idle worker blocks on BRPOP alone: no step script (no RPOP) while nothing is queued") {
            withTimeout(30.seconds) {
                val service = buses.bus("idle", prefix = "idle_")
                service.register(MathService()::sum)
                service.serve(concurrency = 2)
                buses.bus("idle").call("idle_sum", 1, 2) shouldBe 3

                // Only the step script pops with RPOP on this topology (every bus of the spec is idle by now).
                suspend fun rpops(): Long =
                    picket
                        .withConn(spec) { info("commandstats") }
                        .orEmpty()
                        .lines()
                        .firstOrNull { it.startsWith("cmdstat_rpop:") }
                        ?.substringAfter("calls=")
                        ?.substringBefore(",")
                        ?.toLong() ?: 0L
                // Once the call's step and one BRPOP (1 s) are over, a 2.5 s window sees no RPOP at all.
                eventually(15.seconds) {
                    val before = rpops()
                    delay(2_500)
                    rpops() shouldBe before
                }
            }
        }

        test("errors: a remote exception with its type and message, no worker, an unknown method, a lost worker") {
            withTimeout(60.seconds) {
                val math = buses.bus("errors", prefix = "math_")
                val service = MathService()
                math.register(service::divide)
                math.register(service::sum)
                math.serve("math_divide")
                val caller = buses.bus("errors")
                val remote = shouldThrow<RemoteException> { caller.call("math_divide", 1, 0) }
                remote.remoteType shouldBe "java.lang.ArithmeticException"
                remote.remoteMessage shouldBe "cannot divide 1 by zero"
                remote.message shouldBe
                    "bus method 'math_divide' failed on its worker: java.lang.ArithmeticException: " +
                    "cannot divide 1 by zero"

                val started = System.nanoTime()
                val none =
                    shouldThrow<NoWorkerException> {
                        caller.call("math_sum", listOf(1, 2), timeout = Duration.ofMillis(700))
                    }
                ((System.nanoTime() - started) / 1_000_000) shouldBeLessThan 3_000L
                none.message shouldBe "no worker serves bus method 'math_sum': nothing answered within 700 ms"

                shouldThrow<UnknownMethodException> { caller.call("math_nope") }.message shouldBe
                    "bus 'errors' has no method named 'math_nope' (registered: math_divide, math_sum)"

                // A worker whose process dies mid-call: its Picket closes, its lease runs out, the call fails typed.
                val workerPicket = buses.newPicket()
                val slowBus = buses.bus("errors", prefix = "slow_", on = workerPicket)
                val slow = Slow()
                slowBus.register(slow::sleep)
                slowBus.serve()
                val call = caller.run("slow_sleep", listOf(30_000), timeout = Duration.ofSeconds(20))
                slow.started.await()
                val killed = System.nanoTime()
                workerPicket.close()
                val lost = shouldThrow<WorkerLostException> { call.await() }
                lost.message!! shouldStartWith "the worker running bus method 'slow_sleep' was lost: its lease ran out"
                ((System.nanoTime() - killed) / 1_000_000) shouldBeLessThan 8_000L
                // The handle keeps its error.
                shouldThrow<WorkerLostException> { call.await() }
            }
        }

        test("1,000 calls over 8 workers: all answered, each ran exactly once") {
            withTimeout(60.seconds) {
                val service = buses.bus("load", prefix = "load_")
                val counter = Counter()
                service.register(counter::count)
                val server = service.serve(concurrency = 8)
                val caller = buses.bus("load")
                val results =
                    coroutineScope { (1..1_000).map { n -> async { caller.call("load_count", n) } }.awaitAll() }
                results shouldBe (1..1_000).map { it * 2 }
                counter.runs.keys shouldBe (1..1_000).toSet()
                counter.runs.values
                    .map { it.get() }
                    .toSet() shouldBe setOf(1)
                server.handled shouldBe 1_000L
            }
        }

        test("bad input: typed errors at registration or call, nothing stored or sent") {
            withTimeout(30.seconds) {
                shouldThrow<InvalidSpecException> { Bus(picket, " ", spec) }.message shouldBe "bus name is blank"
                val math = buses.bus("bad", prefix = "math_")
                val service = MathService()
                math.register(service::sum)
                math.register(service::sum) shouldBe "math_sum" // the same again: idempotent
                val other = buses.bus("bad", prefix = "math_")
                shouldThrow<InvalidRegistrationException> { other.register(service::other, name = "math_sum") }
                    .message!! shouldContain "cannot be registered: it is registered with a different definition"
                shouldThrow<InvalidRegistrationException> { math.register(service::now, cacheKey = "{seed}/{day}") }
                    .message shouldBe
                    "bus method 'math_now' cannot be registered: its cache template '{seed}/{day}' names 'day', " +
                    "which is not one of its parameters (seed)"
                math.method("math_now") shouldBe null
                math.serve()
                val caller = buses.bus("bad")
                shouldThrow<InvalidArgumentsException> { caller.call("math_sum", 1, 2, 3) }.message shouldBe
                    "bad arguments for bus method 'math_sum': it takes 2 argument(s) (a, b), 3 given"
                shouldThrow<InvalidArgumentsException> { caller.call("math_sum", listOf(1), mapOf("c" to 2)) }
                    .message shouldBe
                    "bad arguments for bus method 'math_sum': no parameter named 'c' (parameters: a, b)"
                shouldThrow<InvalidArgumentsException> { caller.call("math_sum", 1) }.message shouldBe
                    "bad arguments for bus method 'math_sum': missing argument 'b'"
                shouldThrow<ArgumentEncodingException> { caller.call("math_sum", 1, Any()) }.message!! shouldStartWith
                    "argument 'b' of bus method 'math_sum' cannot be encoded as JSON"
                // A wrongly typed argument, found by the worker: the parameter and the type it expects.
                shouldThrow<InvalidArgumentsException> { caller.call("math_sum", 1, "x") }.message shouldBe
                    "bad arguments for bus method 'math_sum': argument 'b' must be Int, got \"x\""
                shouldThrow<NothingToServeException> { math.serve("nothing*") }
            }
        }

        test("debug mode stops the worker at the first exception and surfaces it with its stack") {
            withTimeout(30.seconds) {
                val math = buses.bus("debug", prefix = "math_")
                math.register(MathService()::divide)
                val server = math.serve(debug = true)
                val caller = buses.bus("debug")
                val remote = shouldThrow<RemoteException> { caller.call("math_divide", 1, 0) }
                remote.remoteStack!! shouldContain "at picket.bus.MathService.divide"
                val stop = shouldThrow<DebugStopException> { server.join() }
                stop.cause!!.message shouldBe "cannot divide 1 by zero"
                server.isRunning shouldBe false
                // serveOnce(debug) throws the method's own exception after the caller got it.
                val pending = caller.run("math_divide", listOf(2, 0))
                shouldThrow<ArithmeticException> { math.serveOnce(debug = true) }
                shouldThrow<RemoteException> { pending.await() }
            }
        }

        test("typed proxies: blocking, suspend and future methods of an interface become bus calls") {
            withTimeout(30.seconds) {
                val math = buses.bus("proxy", prefix = "math_")
                val service = MathService()
                math.register(service::sum)
                math.register(service::now, cacheKey = "{seed}")
                math.register(service::divide)
                math.register(Rng::password, name = "random_password")
                math.serve("*", concurrency = 2)
                val api = buses.bus("proxy").proxy<MathApi>(prefix = "math_")
                api.sum(2, 3) shouldBe 5
                api.now(1) shouldBe api.now(1)
                api.password(7) shouldHaveLength 7
                api.divide(9, 3).get() shouldBe 3
                val failed = shouldThrow<ExecutionException> { api.divide(1, 0).get() }
                (failed.cause as RemoteException).remoteMessage shouldBe "cannot divide 1 by zero"
                CompletableFuture.completedFuture(api.toString()).get() shouldStartWith "BusProxy(picket.bus.MathApi"
            }
        }

        test("cleanup() leaves no key of the bus behind (SCAN on the master)") {
            withTimeout(30.seconds) {
                val math = buses.bus("tidy", prefix = "math_")
                val service = MathService()
                math.register(service::now, cacheKey = "{seed}")
                math.register(service::sum)
                math.serve()
                val caller = buses.bus("tidy")
                repeat(3) { caller.call("math_now", it) }
                caller.call("math_sum", 1, 1)

                fun keys() = scanMaster(topology.currentMaster(masterName), "picket:bus:{tidy}:*")
                keys().size shouldNotBe 0
                math.close()
                caller.cleanup()
                keys().shouldBeEmpty()
            }
        }

        test("a manual failover during 16 call loops: no call hangs, errors are typed, workers survive and serve on") {
            withTimeout(90.seconds) {
                val switched = CopyOnWriteArrayList<PicketEvent.SwitchMaster>()
                val callerPicket = buses.newPicket()
                callerPicket.registerListener { if (it is PicketEvent.SwitchMaster) switched += it }
                val math = buses.bus("failover", prefix = "math_")
                math.register(MathService()::sum)
                val server = math.serve(concurrency = 4)
                val caller = buses.bus("failover", on = callerPicket)
                val ok = AtomicInteger()
                val errors = CopyOnWriteArrayList<Throwable>()
                val hung = CopyOnWriteArrayList<String>()
                val afterSwitch = AtomicInteger()
                coroutineScope {
                    val loops =
                        List(LOOPS) { loop ->
                            launch {
                                var i = loop * 1_000_000
                                while (isActive) {
                                    i++
                                    try {
                                        // Each call is bounded by its own timeout: one that outlives it hangs.
                                        val answered =
                                            withTimeoutOrNull(15.seconds) {
                                                caller.call("math_sum", listOf(i, 1), timeout = Duration.ofSeconds(5))
                                            }
                                        if (answered == null) {
                                            hung += "math_sum($i, 1)"
                                        } else {
                                            answered shouldBe i + 1
                                            ok.incrementAndGet()
                                            if (switched.isNotEmpty()) afterSwitch.incrementAndGet()
                                        }
                                    } catch (e: PicketException) {
                                        errors += e
                                    }
                                }
                            }
                        }
                    eventually(10.seconds) { ok.get() shouldNotBe 0 }
                    val old = topology.currentMaster(masterName)
                    topology.failover(masterName)
                    eventually(30.seconds) { switched.size shouldNotBe 0 }
                    eventually(30.seconds) { afterSwitch.get() shouldNotBe 0 }
                    val okAtSwitch = ok.get()
                    val handledAtSwitch = server.handled
                    eventually(20.seconds) { (ok.get() - okAtSwitch) shouldBeGreaterThan LOOPS }
                    server.handled shouldBeGreaterThan handledAtSwitch
                    loops.forEach { it.cancel() }
                    topology.awaitMaster(masterName, notEqualTo = old)
                }
                println("failover: ${ok.get()} calls answered, errors: ${errors.map { it::class.simpleName }}")
                hung.shouldBeEmpty()
                // What bus/README.md promises at a switch: a call completes, or fails with one of these.
                errors.filterNot { it is CallTimeoutException || it is WorkerLostException }.shouldBeEmpty()
                server.isRunning shouldBe true
                caller.call("math_sum", 100, 1) shouldBe 101
                caller.methods().single().workers shouldBe 1
            }
        }
    })

/** Concurrent call loops of the failover spec. */
private const val LOOPS = 16

/** The keys matching [pattern] on [node], by SCAN through a plain client. */
private fun scanMaster(
    node: picket.testkit.RedisNode,
    pattern: String,
): List<String> =
    plain.on(node) { redis ->
        val found = mutableListOf<String>()
        var cursor: ScanCursor = ScanCursor.INITIAL
        do {
            val page = redis.scan(cursor, ScanArgs.Builder.matches(pattern))
            found += page.keys
            cursor = page
        } while (!page.isFinished)
        found
    }
