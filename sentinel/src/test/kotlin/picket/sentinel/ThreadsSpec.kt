package picket.sentinel

import io.kotest.assertions.nondeterministic.continually
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.resource.DefaultClientResources
import io.netty.util.concurrent.DefaultThreadFactory
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.PicketInterruptedException
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/**
 * Every thread a Picket instance starts ends with it: Lettuce's event loops and its own threads; Java callers' blocks
 * run on the callers' threads; callers blocked on a hung master (SIGSTOP, no failover: one sentinel, no replica)
 * fail at once when the instance closes.
 */
class ThreadsSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
                downAfter = Duration.ofSeconds(60)
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val master = topology.awaitMaster(masterName)
        // A command waits for the hung master longer than any step of these tests.
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName, commandTimeout = Duration.ofSeconds(30))

        fun live(): Set<Thread> = Thread.getAllStackTraces().keys.filterTo(mutableSetOf()) { it.isAlive }

        /**
         * Threads started since [baseline], but for kotlinx's shared pool, the JDK's process reapers and the test kit's
         * Lettuce computation threads, which start on their first use, at any time (Picket's threads are `picket-…`).
         */
        fun startedSince(baseline: Set<Thread>): List<String> =
            (live() - baseline)
                .map { it.name }
                .filterNot {
                    it.startsWith("DefaultDispatcher-worker") ||
                        it.startsWith("process reaper") ||
                        it.startsWith("lettuce-eventExecutorLoop")
                }.sorted()

        fun picketThreads(): List<String> = live().map { it.name }.filter { it.startsWith("picket-") }.sorted()

        /** Java callers on threads of their own, each recording the thread its block ran on. */
        class Callers(
            picket: Picket,
            count: Int,
        ) {
            val blockThreads: MutableSet<Thread> = ConcurrentHashMap.newKeySet()
            val results = ConcurrentHashMap<Int, Result<Long>>()
            val threads =
                (1..count).map { i ->
                    thread(name = "java-caller-$i") {
                        results[i] =
                            runCatching {
                                picket.blocking().withConn(spec) { redis ->
                                    blockThreads += Thread.currentThread()
                                    redis.incr("threads:counter")
                                }
                            }
                    }
                }

            fun join() = threads.forEach { it.join(TimeUnit.SECONDS.toMillis(40)) }
        }

        fun warmUp() {
            // kotlinx's and the test kit's threads of a first use, so that the baseline holds them.
            Picket().use { picket ->
                picket.setSentinelGroups("main" to topology.sentinelGroup())
                picket.blocking().withConn(spec) { it.ping() } shouldBe "PONG"
            }
        }

        test("20 Java callers blocked on a hung master wait on their own threads; the instance adds none for them") {
            warmUp()
            val baseline = live()
            val picket = Picket()
            picket.setSentinelGroups("main" to topology.sentinelGroup())
            picket.blocking().withConn(spec) { it.ping() } shouldBe "PONG"
            val open = live().size
            val openPicketThreads = picketThreads()
            topology.pause(master)
            val callers =
                try {
                    Callers(picket, 20).also { callers ->
                        within(20) { callers.blockThreads shouldHaveSize 20 }
                        // Each block ran on the thread that called: the callers' threads, and no thread of Picket's.
                        callers.blockThreads shouldBe callers.threads.toSet()
                        val during = live().size
                        println("threads: ${baseline.size} before, $open open, $during with 20 callers blocked")
                        picketThreads() shouldBe openPicketThreads
                    }
                } finally {
                    topology.resume(master)
                }
            callers.join()
            callers.results.values
                .map { it.getOrThrow() }
                .sorted() shouldBe (1L..20L).toList()
            val resumed = live().size
            picket.close()
            within(5) {
                callers.blockThreads
                    .filter { it.isAlive }
                    .map { it.name }
                    .shouldBeEmpty()
                picketThreads().shouldBeEmpty()
                startedSince(baseline).shouldBeEmpty()
            }
            println("threads: $resumed after resume, ${live().size} after close (baseline ${baseline.size})")
        }

        test("Java callers blocked on a hung master get PicketClosedException at close, at once; their threads end") {
            warmUp()
            val baseline = live()
            val picket = Picket()
            picket.setSentinelGroups("main" to topology.sentinelGroup())
            picket.blocking().withConn(spec) { it.ping() } shouldBe "PONG"
            topology.pause(master)
            try {
                val callers = Callers(picket, 5)
                within(20) { callers.blockThreads shouldHaveSize 5 }
                val started = System.nanoTime()
                picket.close()
                callers.join()
                val tookMs = (System.nanoTime() - started) / 1_000_000
                println("close and the 5 blocked callers' errors took $tookMs ms")
                callers.results.values shouldHaveSize 5
                callers.results.values.forEach { it.exceptionOrNull().shouldBeInstanceOf<PicketClosedException>() }
                tookMs shouldBeLessThan 2_000L
                within(5) {
                    callers.threads.filter { it.isAlive }.shouldBeEmpty()
                    callers.blockThreads.filter { it.isAlive }.shouldBeEmpty()
                    picketThreads().shouldBeEmpty()
                    startedSince(baseline).shouldBeEmpty()
                }
            } finally {
                topology.resume(master)
            }
        }

        test("an idempotent Java call retried as the instance closes gets PicketClosedException; nothing reconnects") {
            // A blocking call is not a coroutine of the instance, which does not wait for it: its retry (the block is
            // idempotent, its connection closed under it) must find the instance closed, not open a new connection.
            val name = "threads-retry-at-close"
            // Direct: a retry goes straight to the connections, with no resolution (which would wait) in between.
            val retrying =
                ConnSpec(
                    host = master.host,
                    port = master.port,
                    idempotent = true,
                    clientName = name,
                    commandTimeout = Duration.ofSeconds(30),
                )
            val picket = Picket()
            picket.setSentinelGroups("main" to topology.sentinelGroup())
            picket.blocking().withConn(retrying) { it.ping() } shouldBe "PONG"
            topology.pause(master)
            try {
                val outcome = CompletableFuture<Throwable?>()
                val caller =
                    thread(name = "java-caller-retrying-at-close") {
                        outcome.complete(
                            runCatching { picket.blocking().withConn(retrying) { it.incr("threads:retry") } }
                                .exceptionOrNull(),
                        )
                    }
                // In the command: Lettuce's synchronous wait is timed.
                within(10) { caller.state shouldBe Thread.State.TIMED_WAITING }
                picket.close()
                outcome.get(5, TimeUnit.SECONDS).shouldBeInstanceOf<PicketClosedException>()
            } finally {
                topology.resume(master)
                picket.close()
            }
            // The paused master learns of the old connection's close once resumed; no new one may come after it.
            within(10) { Inspect.on(master) { it.clientList() }.lines().none { "name=$name" in it } shouldBe true }
            continually(2.seconds) {
                Inspect.on(master) { it.clientList() }.lines().none { "name=$name" in it } shouldBe true
            }
        }

        test("a Java block runs on the calling thread and sees its ThreadLocals; async gives a future") {
            Picket().use { picket ->
                picket.setSentinelGroups("main" to topology.sentinelGroup())
                val context = ThreadLocal<String>()
                context.set("request-42")
                val caller = Thread.currentThread()
                picket.blocking().withConn(spec) { redis ->
                    Thread.currentThread() shouldBe caller
                    redis.set("threads:context", context.get())
                } shouldBe "OK"
                picket.blocking().withConn(spec) { it.get("threads:context") } shouldBe "request-42"
                picket
                    .async()
                    .withConn(spec) { it.get("threads:context") }
                    .get(10, TimeUnit.SECONDS) shouldBe "request-42"
            }
        }

        test("a Java caller interrupted in a block's command gets PicketInterruptedException, its flag kept") {
            Picket().use { picket ->
                picket.setSentinelGroups("main" to topology.sentinelGroup())
                picket.blocking().withConn(spec) { it.ping() } shouldBe "PONG"
                topology.pause(master)
                try {
                    val outcome = CompletableFuture<Pair<Throwable?, Boolean>>()
                    val entered = CountDownLatch(1)
                    val caller =
                        thread(name = "java-caller-interrupted") {
                            val error =
                                runCatching {
                                    picket.blocking().withConn(spec) { redis ->
                                        entered.countDown()
                                        redis.get("threads:context")
                                    }
                                }.exceptionOrNull()
                            outcome.complete(error to Thread.currentThread().isInterrupted)
                        }
                    entered.await(10, TimeUnit.SECONDS) shouldBe true
                    val started = System.nanoTime()
                    caller.interrupt()
                    val (error, flagSet) = outcome.get(5, TimeUnit.SECONDS)
                    val tookMs = (System.nanoTime() - started) / 1_000_000
                    println("interrupted caller answered in $tookMs ms: $error")
                    error.shouldBeInstanceOf<PicketInterruptedException>()
                    error.message shouldBe "interrupted while waiting for withConn on ${spec.target}"
                    flagSet shouldBe true
                    tookMs shouldBeLessThan 1_000L
                } finally {
                    topology.resume(master)
                }
                // The instance goes on: the master was not dropped for an interruption.
                picket.blocking().withConn(spec) { it.ping() } shouldBe "PONG"
            }
        }

        test("a Java caller interrupted while Picket resolves the master gets PicketInterruptedException at once") {
            Picket().use { picket ->
                picket.setSentinelGroups("main" to topology.sentinelGroup())
                topology.pause(master)
                try {
                    val outcome = CompletableFuture<Pair<Throwable?, Boolean>>()
                    val caller =
                        thread(name = "java-caller-resolving") {
                            // The first block resolves: ROLE to the paused master waits for the command timeout.
                            val error = runCatching { picket.blocking().withConn(spec) { it.ping() } }.exceptionOrNull()
                            outcome.complete(error to Thread.currentThread().isInterrupted)
                        }
                    within(10) { caller.state shouldBe Thread.State.WAITING }
                    val started = System.nanoTime()
                    caller.interrupt()
                    val (error, flagSet) = outcome.get(5, TimeUnit.SECONDS)
                    val tookMs = (System.nanoTime() - started) / 1_000_000
                    error.shouldBeInstanceOf<PicketInterruptedException>()
                    error.cause.shouldBeInstanceOf<InterruptedException>()
                    flagSet shouldBe true
                    tookMs shouldBeLessThan 1_000L
                } finally {
                    topology.resume(master)
                }
                picket.blocking().withConn(spec) { it.ping() } shouldBe "PONG"
            }
        }

        test("a Java caller waiting while Picket resolves the master gets PicketClosedException at close, at once") {
            val picket = Picket()
            picket.setSentinelGroups("main" to topology.sentinelGroup())
            topology.pause(master)
            try {
                val outcome = CompletableFuture<Throwable?>()
                val caller =
                    thread(name = "java-caller-resolving-at-close") {
                        // Suspended in resolution (ROLE to the paused master), not in a command of its block.
                        outcome.complete(
                            runCatching { picket.blocking().withConn(spec) { it.ping() } }.exceptionOrNull(),
                        )
                    }
                within(10) { caller.state shouldBe Thread.State.WAITING }
                val started = System.nanoTime()
                picket.close()
                val error = outcome.get(5, TimeUnit.SECONDS)
                val tookMs = (System.nanoTime() - started) / 1_000_000
                error.shouldBeInstanceOf<PicketClosedException>()
                tookMs shouldBeLessThan 1_000L
                caller.join(5_000)
                caller.isAlive shouldBe false
            } finally {
                topology.resume(master)
                picket.close()
            }
        }

        test("instances sharing one resources object add no event loop, and leave it running when they close") {
            val resources =
                DefaultClientResources
                    .builder()
                    .ioThreadPoolSize(2)
                    .computationThreadPoolSize(2)
                    .threadFactoryProvider { pool -> DefaultThreadFactory("shared-$pool", true) }
                    .build()
            try {
                val first = Picket(resources)
                first.setSentinelGroups("main" to topology.sentinelGroup())
                // Two connections (the sentinel subscription and the master), one on each event loop.
                first.withConn(spec) { ping() } shouldBe "PONG"
                within(10) {
                    first
                        .status("main")
                        .subscriptions.values
                        .all { it } shouldBe true
                }
                val baseline = live()
                val others =
                    (1..19).map {
                        Picket(resources).apply {
                            setSentinelGroups("main" to topology.sentinelGroup())
                            withConn(spec) { incr("threads:shared") }
                        }
                    }
                val shared = live().map { it.name }.filter { it.startsWith("shared-") }
                println("threads: 20 instances on one resources object, ${shared.size} of its threads: $shared")
                // Lettuce's computation threads start on first use; no event loop or timer is added.
                startedSince(baseline).filterNot { it.startsWith("shared-lettuce-eventExecutorLoop") }.shouldBeEmpty()
                picketThreads().shouldBeEmpty()
                (others + first).forEach { it.close() }
                within(5) { startedSince(baseline).filterNot { it.startsWith("shared-") }.shouldBeEmpty() }
                // Still usable by whoever made it.
                Picket(resources).use { picket ->
                    picket.setSentinelGroups("main" to topology.sentinelGroup())
                    picket.withConn(spec) { ping() } shouldBe "PONG"
                }
            } finally {
                resources.shutdown(0, 2, TimeUnit.SECONDS).get()
            }
        }

        test("20 instances of their own start their threads and end them all at close") {
            warmUp()
            val baseline = live()
            val instances =
                (1..20).map {
                    Picket().apply {
                        setSentinelGroups("main" to topology.sentinelGroup())
                        withConn(spec) { incr("threads:own") }
                    }
                }
            val started = startedSince(baseline)
            println("threads: ${baseline.size} before 20 instances of their own, ${live().size} with them open")
            started.size shouldBeGreaterThan 0
            started.filterNot { it.startsWith("picket-") }.shouldBeEmpty()
            instances.forEach { it.close() }
            within(5) { startedSince(baseline).shouldBeEmpty() }
            println("threads: ${live().size} after closing them")
        }
    })
