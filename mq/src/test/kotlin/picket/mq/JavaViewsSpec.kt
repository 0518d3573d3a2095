package picket.mq

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketInterruptedException
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.function.Function
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/**
 * The queue and the list listener as Java calls them, on a real topology (1 master, 1 sentinel): the `blocking()`
 * views run on the caller's thread, the `async()` views return futures, Java handlers run on the instance's handler
 * executor (by default kotlinx's IO threads), and an interrupted blocking wait gives `PicketInterruptedException`
 * with the flag kept.
 */
class JavaViewsSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = TopologyConfig.DEFAULT_MASTER_NAME)
        val queues = MessageQueues.strings(picket, spec)
        afterSpec { picket.close() }
        val fast = RetryPolicy(maxAttempts = 2, initialBackoff = Duration.ofMillis(50), jitter = 0.0)

        test(
            "blocking and async enqueue, status, messageStatus and queueNames give the Kotlin members' values",
        ).config(timeout = TIMEOUT) {
            val first = queues.blocking().enqueue("java-q", "one", EnqueueOptions(id = "j-1"))
            first shouldBe EnqueueResult("j-1", EnqueueOutcome.ADDED)
            val again = queues.async().enqueue("java-q", "one", EnqueueOptions(id = "j-1")).get(10, TimeUnit.SECONDS)
            again shouldBe EnqueueResult("j-1", EnqueueOutcome.ALREADY_QUEUED)
            queues
                .async()
                .enqueue("java-q", "two")
                .get(10, TimeUnit.SECONDS)
                .outcome shouldBe EnqueueOutcome.ADDED
            queues.blocking().status("java-q").ready shouldBe 2
            queues
                .async()
                .status("java-q")
                .get(10, TimeUnit.SECONDS)
                .ready shouldBe 2
            val info = queues.blocking().messageStatus("java-q", "j-1").shouldNotBeNull()
            (info.state to info.message) shouldBe (MessageState.QUEUED to "one")
            queues
                .async()
                .messageStatus("java-q", "nope")
                .get(10, TimeUnit.SECONDS)
                .shouldBeNull()
            queues.blocking().queueNames() shouldContain "java-q"
            queues.async().queueNames().get(10, TimeUnit.SECONDS) shouldContain "java-q"
            queues.blocking().clearQueueDeletingAllMessages("java-q").queue shouldBe "java-q"
            queues.blocking().status("java-q").ready shouldBe 0
        }

        test(
            "a blocking enqueue runs on the caller's thread: its listener sees the caller's ThreadLocal",
        ).config(timeout = TIMEOUT) {
            val context = ThreadLocal<String>()
            val seen = CopyOnWriteArrayList<String>()
            queues
                .registerListener { event ->
                    if (event is QueueEvent.Enqueued && event.queue == "java-local") {
                        // The thread's name without the coroutine's, which the tests' debug mode appends.
                        seen += "${Thread.currentThread().name.substringBefore(" @")}/${context.get()}"
                    }
                }.use {
                    val outcome = CompletableFuture<Any>()
                    thread(name = "java-caller") {
                        context.set("request-7")
                        outcome.complete(runCatching { queues.blocking().enqueue("java-local", "x").outcome })
                    }
                    outcome.get(10, TimeUnit.SECONDS) shouldBe Result.success(EnqueueOutcome.ADDED)
                }
            seen shouldContainExactly listOf("java-caller/request-7")
        }

        test(
            "a Java worker handles on the handler threads, at most its concurrency at once; dead letters by view",
        ).config(timeout = TIMEOUT) {
            val threads = ConcurrentHashMap.newKeySet<String>()
            val running = AtomicInteger()
            val most = AtomicInteger()
            val handled = ConcurrentHashMap.newKeySet<String>()
            (1..6).forEach { queues.blocking().enqueue("java-work", "m-$it") }
            queues.blocking().enqueue("java-work", "broken")
            val options = WorkerOptions(concurrency = 2, retry = fast)
            val worker =
                queues.worker(
                    "java-work",
                    options,
                    Function { delivery ->
                        threads += Thread.currentThread().name
                        most.accumulateAndGet(running.incrementAndGet(), ::maxOf)
                        try {
                            Thread.sleep(150)
                            check(delivery.message != "broken") { "no template for ${delivery.message}" }
                            delivery.blocking().extendLease(Duration.ofSeconds(30))
                            handled += delivery.message
                            HandlerResult.success()
                        } finally {
                            running.decrementAndGet()
                        }
                    },
                )
            within(15) {
                queues.blocking().status("java-work").let { (it.done to it.dead) shouldBe (6L to 1L) }
            }
            worker.blocking().stop(Duration.ofSeconds(5)) shouldBe true
            handled shouldBe (1..6).map { "m-$it" }.toSet()
            threads.forEach { it shouldStartWith "DefaultDispatcher-worker-" }
            most.get() shouldBeInRange 1..2
            val dead = queues.blocking().deadLetters("java-work").single()
            (dead.message to dead.attempts) shouldBe ("broken" to 2)
            dead.error shouldBe "java.lang.IllegalStateException: no template for broken"
            queues
                .async()
                .deadLetters("java-work")
                .get(10, TimeUnit.SECONDS)
                .map { it.id } shouldBe listOf(dead.id)
            queues.blocking().requeueDead("java-work", listOf(dead.id)) shouldBe 1
            queues.async().requeueAllDead("java-work").get(10, TimeUnit.SECONDS) shouldBe 0
            queues.blocking().status("java-work").ready shouldBe 1
            queues
                .async()
                .clearQueueDeletingAllMessages("java-work")
                .get(10, TimeUnit.SECONDS)
                .queue shouldBe
                "java-work"
        }

        test("a worker's async stop completes with true once drained").config(timeout = TIMEOUT) {
            val worker = queues.worker("java-stop", WorkerOptions(), Function { HandlerResult.success() })
            worker.isRunning shouldBe true
            worker.async().stop(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS) shouldBe true
            worker.isRunning shouldBe false
        }

        test(
            "ListListener.getMessage, blocking and async: the Java handler's result on a handler thread, or null",
        ).config(timeout = TIMEOUT) {
            val threads = CopyOnWriteArrayList<String>()
            val listener =
                ListListener.create(
                    picket,
                    spec,
                    "java-inbox",
                    Function { message ->
                        threads += Thread.currentThread().name
                        message.uppercase()
                    },
                )
            Inspect.on(
                topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME),
            ) { it.lpush("java-inbox", "first", "second") }
            listener.blocking().getMessage() shouldBe "FIRST"
            listener.async().getMessage().get(10, TimeUnit.SECONDS) shouldBe "SECOND"
            listener.blocking().getMessage().shouldBeNull()
            listener.blocking().recover() shouldBe 0
            threads.size shouldBe 2
            threads.forEach { it shouldStartWith "DefaultDispatcher-worker-" }
            Inspect.on(
                topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME),
            ) { it.llen(listener.processingList) } shouldBe
                0
        }

        test(
            "an interrupted blocking listen() throws PicketInterruptedException with the thread's flag kept",
        ).config(timeout = TIMEOUT) {
            val listener = ListListener(picket, spec, "java-idle")
            val outcome = CompletableFuture<Pair<Throwable?, Boolean>>()
            val caller =
                thread(name = "java-listener") {
                    val error = runCatching { listener.blocking().listen() }.exceptionOrNull()
                    outcome.complete(error to Thread.currentThread().isInterrupted)
                }
            within(10) { listener.isListening shouldBe true }
            caller.interrupt()
            val (error, flagSet) = outcome.get(10, TimeUnit.SECONDS)
            error.shouldBeInstanceOf<PicketInterruptedException>()
            error.message shouldBe "interrupted while waiting for listen on list 'java-idle'"
            flagSet shouldBe true
            listener.isListening shouldBe false
            // The future form ends with stop().
            val other = ListListener(picket, spec, "java-idle-2")
            val listening = other.async().listen()
            within(10) { other.isListening shouldBe true }
            other.stop()
            listening.get(10, TimeUnit.SECONDS).shouldBeNull()
        }
    })

/** Each test's limit: every wait in it has a shorter one of its own. */
private val TIMEOUT = 60.seconds
