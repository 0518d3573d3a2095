package picket.pubsub

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.PicketInterruptedException
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.net.ServerSocket
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.function.Consumer
import kotlin.concurrent.thread

/**
 * Pub/sub as Java calls it: the blocking and async views of [PubSub] and [PubSubListener], Java handlers on the
 * instance's handler executor, and an interrupted blocking wait.
 */
class PubSubJavaSpec :
    FunSpec({
        timeout = 120_000
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec.sentinel("main", masterName).build()
        val pubsub = PubSub(picket)

        /** (thread name, payload) of each message a Java handler received, in order. */
        class Received : Consumer<PubSubMessage> {
            val all = CopyOnWriteArrayList<Pair<String, String>>()

            override fun accept(message: PubSubMessage) {
                all += Thread.currentThread().name to message.payload
            }

            fun payloads() = all.map { it.second }
        }

        test("blocking publish reaches a Java handler on a handler thread, in the order published") {
            val received = Received()
            pubsub.listen(spec, mapOf(Topic.channel("java.orders") to received)).use { listener ->
                listener.blocking().awaitConnected(Duration.ofSeconds(10)) shouldBe true
                (1..20).forEach { pubsub.blocking().publish(spec, "java.orders", "m$it") shouldBe 1L }
                within(10) { received.all shouldHaveSize 20 }
                received.payloads() shouldContainExactly (1..20).map { "m$it" }
                received.all.forEach { (threadName, _) -> threadName shouldStartWith "DefaultDispatcher-worker-" }
            }
        }

        test("async subscribe, publish and unsubscribe; a blocking psubscribe and a Java fallback") {
            val audit = Received()
            val fallback = Received()
            pubsub.listen(spec, emptyMap()).use { listener ->
                listener.async().awaitConnected(Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS) shouldBe true
                listener.setBlockingHandler(Topic.channel("java.audit"), audit)
                listener.async().subscribe("java.audit").get(10, TimeUnit.SECONDS) shouldBe null
                listener.subscriptions().channels shouldBe setOf("java.audit")
                pubsub.async().publish(spec, "java.audit", "login").get(10, TimeUnit.SECONDS) shouldBe 1L
                within(10) { audit.payloads() shouldContainExactly listOf("login") }

                listener.setBlockingFallback(fallback)
                listener.blocking().psubscribe("java.metrics.*")
                pubsub.blocking().publish(spec, "java.metrics.cpu", "97%") shouldBe 1L
                within(10) { fallback.payloads() shouldContainExactly listOf("97%") }
                fallback.all.single().first shouldStartWith "DefaultDispatcher-worker-"

                listener.async().unsubscribe("java.audit").get(10, TimeUnit.SECONDS)
                listener.blocking().punsubscribe("java.metrics.*")
                listener.subscriptions() shouldBe Subscriptions(emptySet(), emptySet())
                pubsub.async().publish(spec, "java.audit", "logout").get(10, TimeUnit.SECONDS) shouldBe 0L
            }
        }

        test("Java handlers run on the executor given to the instance's builder") {
            val executor = Executors.newFixedThreadPool(2) { task -> Thread(task, "app-handler") }
            val own =
                Picket
                    .builder()
                    .sentinelGroup("main", topology.sentinelGroup())
                    .handlerExecutor(executor)
                    .build()
            try {
                val received = Received()
                PubSub(own).listen(spec, mapOf(Topic.pattern("java.own.*") to received)).use { listener ->
                    listener.blocking().awaitConnected(Duration.ofSeconds(10)) shouldBe true
                    PubSub(own).blocking().publish(spec, "java.own.a", "hello") shouldBe 1L
                    within(10) { received.payloads() shouldContainExactly listOf("hello") }
                    received.all.single().first shouldStartWith "app-handler"
                }
            } finally {
                own.close()
                executor.shutdownNow()
            }
        }

        test("a caller interrupted in a blocking awaitConnected gets PicketInterruptedException, its flag kept") {
            // A node that is not there: the listener keeps reconnecting and never connects.
            val port = ServerSocket(0).use { it.localPort }
            val nowhere = ConnSpec.direct("127.0.0.1", port).build()
            pubsub.listen(nowhere, emptyMap()).use { listener ->
                val outcome = CompletableFuture<Pair<Throwable?, Boolean>>()
                val caller =
                    thread(name = "java-caller-awaiting") {
                        val error =
                            runCatching { listener.blocking().awaitConnected(Duration.ofMinutes(1)) }.exceptionOrNull()
                        outcome.complete(error to Thread.currentThread().isInterrupted)
                    }
                within(10) { caller.state shouldBe Thread.State.WAITING }
                val started = System.nanoTime()
                caller.interrupt()
                val (error, flagSet) = outcome.get(5, TimeUnit.SECONDS)
                val error2 = error.shouldBeInstanceOf<PicketInterruptedException>()
                error2.message shouldBe
                    "interrupted while waiting for awaitConnected of the pub/sub listener on 127.0.0.1:$port"
                error2.cause.shouldBeInstanceOf<InterruptedException>()
                flagSet shouldBe true
                (System.nanoTime() - started) / 1_000_000 shouldBeLessThan 1_000L
                listener.isConnected shouldBe false
            }
        }

        test("the views of a closed listener throw PicketClosedException; an empty channel is refused") {
            val listener = pubsub.listen(spec, emptyMap())
            listener.close()
            shouldThrow<PicketClosedException> { listener.blocking().subscribe("java.late") }
            val failed = runCatching { listener.async().subscribe("java.late").get(10, TimeUnit.SECONDS) }
            failed.exceptionOrNull()?.cause.shouldBeInstanceOf<PicketClosedException>()
            shouldThrow<picket.core.InvalidSpecException> { pubsub.blocking().publish(spec, "", "x") }.message shouldBe
                "a channel name is empty"
        }
    })
