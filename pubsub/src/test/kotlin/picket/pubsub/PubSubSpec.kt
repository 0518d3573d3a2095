package picket.pubsub

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.PicketClosedException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/** Listeners, flows and publishing on a real topology, healthy and under faults. */
class PubSubSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)

        test("channels and patterns reach their handlers in order; a message matching both reaches both") {
            val a = CopyOnWriteArrayList<String>()
            val b = CopyOnWriteArrayList<String>()
            val pattern = CopyOnWriteArrayList<String>()
            val events = Events()
            val listener =
                picket.listen(
                    spec,
                    mapOf(
                        Topic.channel("ord.a") to { m -> a += m.payload },
                        Topic.channel("ord.b") to { m -> b += m.payload },
                        Topic.pattern("ord.*") to { m -> pattern += "${m.channel}:${m.payload}" },
                    ),
                    ListenerOptions(onEvent = events),
                )
            try {
                events.await<PubSubEvent.Connected>().address shouldBe topology.awaitMaster(masterName).asAddress
                listener.subscriptions() shouldBe Subscriptions(setOf("ord.a", "ord.b"), setOf("ord.*"))
                repeat(100) {
                    picket.publish(spec, "ord.a", "a$it") shouldBe 2L
                    picket.publish(spec, "ord.b", "b$it") shouldBe 2L
                }
                picket.publish(spec, "ord.c", "c") shouldBe 1L
                within(10) { pattern.size shouldBe 201 }
                a shouldBe (0 until 100).map { "a$it" }
                b shouldBe (0 until 100).map { "b$it" }
                pattern.filter { it.startsWith("ord.a:") } shouldBe (0 until 100).map { "ord.a:a$it" }
                pattern.last() shouldBe "ord.c:c"
                events.ofType<PubSubEvent.Subscribed>().map { it.topic }.toSet() shouldBe
                    setOf(Topic.channel("ord.a"), Topic.channel("ord.b"), Topic.pattern("ord.*"))
            } finally {
                listener.close()
            }
        }

        test("handlers change while it runs; a throwing handler is reported; the fallback takes the rest") {
            val seen = CopyOnWriteArrayList<String>()
            val events = Events()
            val listener =
                picket.listen(
                    spec,
                    mapOf(
                        Topic.channel("h.one") to
                            { m -> if (m.payload == "boom") error("boom!") else seen += m.payload },
                    ),
                    ListenerOptions(onEvent = events),
                )
            try {
                events.await<PubSubEvent.Connected>()
                picket.publish(spec, "h.one", "boom")
                picket.publish(spec, "h.one", "after")
                within(5) { seen shouldBe listOf("after") }
                val failed = events.await<PubSubEvent.HandlerFailed>()
                failed.message shouldBe PubSubMessage("h.one", null, "boom")
                failed.error.message shouldBe "boom!"

                listener.setHandler(Topic.channel("h.one")) { m -> seen += "replaced:${m.payload}" }
                listener.subscribe("h.two")
                listener.fallback = { m -> seen += "fallback:${m.channel}:${m.payload}" }
                picket.publish(spec, "h.one", "1")
                picket.publish(spec, "h.two", "2")
                // Handled before the handler goes: a message still buffered would reach the fallback.
                within(5) { seen.last() shouldBe "fallback:h.two:2" }
                listener.removeHandler(Topic.channel("h.one")) shouldBe true
                picket.publish(spec, "h.one", "3")
                within(5) { seen shouldBe listOf("after", "replaced:1", "fallback:h.two:2", "fallback:h.one:3") }
                listener.unsubscribe("h.one", "h.two")
                listener.subscriptions() shouldBe Subscriptions(emptySet(), emptySet())
                picket.publish(spec, "h.one", "gone") shouldBe 0L
            } finally {
                listener.close()
            }
        }

        test("an inline handler sees each message first, on an I/O thread, and takes those it returns true for") {
            val handled = CopyOnWriteArrayList<String>()
            val taken = CopyOnWriteArrayList<String>()
            val threads = CopyOnWriteArrayList<String>()
            val events = Events()
            val inline =
                InlineHandler { m ->
                    threads += Thread.currentThread().name
                    if (m.payload == "boom") error("inline boom")
                    m.payload.startsWith("take").also { take -> if (take) taken += m.payload }
                }
            val listener =
                picket.listen(
                    spec,
                    mapOf(Topic.channel("in.one") to { m -> handled += m.payload }),
                    ListenerOptions(onEvent = events).inlineHandler(inline),
                )
            try {
                events.await<PubSubEvent.Connected>()
                listOf("take1", "keep1", "boom", "take2", "keep2").forEach { picket.publish(spec, "in.one", it) }
                // A message it throws on is buffered as if not taken, and reported.
                within(5) { handled shouldBe listOf("keep1", "boom", "keep2") }
                taken shouldBe listOf("take1", "take2")
                threads.size shouldBe 5
                threads.filterNot { it.startsWith("picket-pubsub-") }.shouldBeEmpty()
                val failed = events.await<PubSubEvent.HandlerFailed>()
                failed.message shouldBe PubSubMessage("in.one", null, "boom")
                failed.error.message shouldBe "inline boom"
            } finally {
                listener.close()
            }
        }

        test("close, or a Flow collector that stops, leaves no subscription and no connection on the server") {
            val master = topology.awaitMaster(masterName)
            val named = spec.copy(clientName = "ps-close")
            val events = Events()
            val listener =
                picket.listen(
                    named,
                    mapOf(Topic.channel("c.one") to { _ -> }, Topic.pattern("c.*") to { _ -> }),
                    ListenerOptions(onEvent = events),
                )
            events.await<PubSubEvent.Connected>()
            Inspect.subscribers(master, "c.one") shouldBe 1L
            Inspect.patterns(master) shouldBe 1L
            Inspect.subscribersNamed(master, "ps-close") shouldBe 1
            listener.close()
            // close() waited for the connection to close; the server may take a moment to drop it.
            within(5) {
                Inspect.subscribers(master, "c.one") shouldBe 0L
                Inspect.patterns(master) shouldBe 0L
                Inspect.subscribersNamed(master, "ps-close") shouldBe 0
            }
            // What remains is the spec's shared connection, which resolving the master checked ROLE on.
            Inspect.clientsNamed(master, "ps-close") shouldBe 1
            shouldThrow<PicketClosedException> { listener.subscribe("c.two") }

            val flowSpec = spec.copy(clientName = "ps-flow")
            coroutineScope {
                val messages = CompletableDeferred<List<PubSubMessage>>()
                launch { messages.complete(picket.subscribe(flowSpec, listOf("f.one")).take(3).toList()) }
                within(10) { Inspect.subscribers(master, "f.one") shouldBe 1L }
                repeat(3) { picket.publish(spec, "f.one", "m$it") }
                withTimeout(10.seconds) { messages.await() }.map { it.payload } shouldBe listOf("m0", "m1", "m2")
            }
            within(5) { Inspect.subscribers(master, "f.one") shouldBe 0L }
            within(5) { Inspect.subscribersNamed(master, "ps-flow") shouldBe 0 }
            coroutineScope {
                val first = CompletableDeferred<PubSubMessage>()
                val job = launch { picket.psubscribe(flowSpec, listOf("fp.*")).collect { first.complete(it) } }
                within(10) { Inspect.patterns(master) shouldBe 1L }
                picket.publish(spec, "fp.x", "hello")
                withTimeout(10.seconds) { first.await() } shouldBe PubSubMessage("fp.x", "fp.*", "hello")
                job.cancel()
            }
            within(5) { Inspect.patterns(master) shouldBe 0L }
            Inspect.subscribersNamed(master, "ps-flow") shouldBe 0
            Inspect.clientsNamed(master, "ps-flow") shouldBe 1
        }

        test("50,000 messages as fast as possible all arrive with the suspend policy; the drop policy counts") {
            val count = 50_000
            val received = AtomicInteger()
            val events = Events()
            val listener =
                picket.listen(
                    spec,
                    mapOf(
                        Topic.channel("fast") to { m ->
                            // Stalls twice, past the PING timeout, with the buffer full: back-pressure on the socket.
                            if (m.payload == "1000" || m.payload == "30000") delay(1_200)
                            received.incrementAndGet()
                        },
                    ),
                    ListenerOptions(
                        bufferSize = 64,
                        pingInterval = Duration.ofMillis(200),
                        pingTimeout = Duration.ofMillis(500),
                        onEvent = events,
                    ),
                )
            try {
                events.await<PubSubEvent.Connected>()
                picket
                    .pipeline(spec) { (0 until count).forEach { n -> add { it.publish("fast", "$n") } } }
                    .toSet() shouldBe setOf(1L)
                within(30) { received.get() shouldBe count }
                listener.dropped shouldBe 0L
                // A full buffer is not a dead connection: the listener never replaced it.
                events.ofType<PubSubEvent.Disconnected>().shouldBeEmpty()
            } finally {
                listener.close()
            }

            val slowReceived = AtomicInteger()
            val dropEvents = Events()
            val dropping =
                picket.listen(
                    spec,
                    mapOf(
                        Topic.channel("slow") to { _ ->
                            slowReceived.incrementAndGet()
                            delay(1)
                        },
                    ),
                    ListenerOptions(bufferSize = 16, onEvent = dropEvents)
                        .buffer(16, ListenerOptions.Overflow.DROP_OLDEST),
                )
            try {
                dropEvents.await<PubSubEvent.Connected>()
                picket.withConn(spec) { (0 until 5_000).forEach { publish("slow", "$it") } }
                within(30) { (slowReceived.get() + dropping.dropped) shouldBe 5_000L }
                dropping.dropped shouldBeGreaterThan 0L
                dropEvents.ofType<PubSubEvent.Dropped>().last().total shouldBe dropping.dropped
            } finally {
                dropping.close()
            }
        }

        test("a master paused with SIGSTOP is noticed within the liveness bound, before any failover") {
            val master = topology.awaitMaster(masterName)
            val events = Events()
            val options =
                ListenerOptions(
                    pingInterval = Duration.ofMillis(300),
                    pingTimeout = Duration.ofMillis(300),
                    onEvent = events,
                )
            val listener = picket.listen(spec, mapOf(Topic.channel("live") to { _ -> }), options)
            try {
                events.await<PubSubEvent.Connected>()
                val pausedAt = System.nanoTime()
                topology.pause(master)
                val disconnected =
                    try {
                        events.await<PubSubEvent.Disconnected>(seconds = 5)
                    } finally {
                        topology.resume(master)
                    }
                val noticedIn = Duration.ofNanos(System.nanoTime() - pausedAt)
                println("paused master noticed in ${noticedIn.toMillis()} ms: ${disconnected.reason}")
                disconnected.reason shouldContain "no PING reply within 300 ms"
                noticedIn shouldBeLessThan Duration.ofMillis(1_500)
                val resumed = events.await<PubSubEvent.Resumed>(seconds = 20)
                resumed.address shouldBe master.asAddress
                // The old connection was closed while the master was paused: the server drops it once it runs again.
                within(5) { picket.publish(spec, "live", "again") shouldBe 1L }
            } finally {
                listener.close()
            }
        }

        test("bad input is refused with typed errors") {
            shouldThrow<InvalidSpecException> { Topic.channel("") }.message shouldBe "a channel name is empty"
            shouldThrow<InvalidSpecException> { Topic.pattern(" ") }.message shouldBe "a pattern is blank"
            shouldThrow<InvalidSpecException> { picket.publish(spec, "", "x") }
            shouldThrow<InvalidSpecException> { ListenerOptions(bufferSize = 0) }.message shouldBe
                "listener bufferSize is 0, must be >= 1"
            shouldThrow<InvalidSpecException> { ListenerOptions(pingTimeout = Duration.ZERO) }
            val listener = picket.listen(spec, emptyMap())
            try {
                shouldThrow<InvalidSpecException> { listener.subscribe("ok", "") }
                listener.subscriptions() shouldBe Subscriptions(emptySet(), emptySet())
            } finally {
                listener.close()
            }
            shouldThrow<PicketClosedException> { listener.psubscribe("p*") }
        }

        test("a direct listener (host and port) subscribes there, and reconnects there when its connection is killed") {
            val master = topology.awaitMaster(masterName)
            val direct = ConnSpec(host = master.host, port = master.port, clientName = "ps-direct")
            val received = CopyOnWriteArrayList<String>()
            val events = Events()
            val listener =
                picket.listen(
                    direct,
                    mapOf(
                        Topic.channel("direct") to { m ->
                            received += m.payload
                        },
                    ),
                    ListenerOptions(onEvent = events),
                )
            try {
                events.await<PubSubEvent.Connected>().address shouldBe master.asAddress
                picket.publish(direct, "direct", "one") shouldBe 1L
                Inspect.killSubscribers(master, "ps-direct") shouldBe 1
                events.await<PubSubEvent.Disconnected>().reason shouldBe "the connection closed"
                events.await<PubSubEvent.Resumed>().address shouldBe master.asAddress
                picket.publish(direct, "direct", "two") shouldBe 1L
                within(5) { received shouldBe listOf("one", "two") }
            } finally {
                listener.close()
            }
        }

        test("a listener on a replica gets what is published on the master") {
            val master = topology.awaitMaster(masterName)
            val received = CompletableDeferred<PubSubMessage>()
            val events = Events()
            val listener =
                picket.listen(
                    spec.preferReplica(fallbackToMaster = false),
                    mapOf(Topic.channel("replicated") to { m -> received.complete(m) }),
                    ListenerOptions(onEvent = events),
                )
            try {
                val connected = events.await<PubSubEvent.Connected>()
                connected.address shouldNotBe master.asAddress
                listener.node shouldBe connected.address
                picket.publish(spec, "replicated", "via the master") shouldBe 0L
                withTimeout(10.seconds) { received.await() }.payload shouldBe "via the master"
            } finally {
                listener.close()
            }
        }

        for (fault in listOf("manual failover", "kill -9 of the master")) {
            test("across a $fault the listener resumes by itself and its gap covers every message missed") {
                val old = topology.awaitMaster(masterName)
                val received = Collections.newSetFromMap(ConcurrentHashMap<Int, Boolean>())
                val events = Events()
                val listener =
                    picket.listen(
                        spec,
                        mapOf(Topic.channel("gap") to { m -> received += m.payload.toInt() }),
                        ListenerOptions(onEvent = events),
                    )
                try {
                    events.await<PubSubEvent.Connected>()
                    val publisher = Publisher(picket, spec, "gap")
                    coroutineScope {
                        val publishing = launch { publisher.run() }
                        delay(300)
                        if (fault == "manual failover") topology.failover(masterName) else topology.kill(old)
                        val resumed = events.await<PubSubEvent.Resumed>(seconds = 40)
                        // Publish on for a second after the listener resumed.
                        within(5) { publisher.ackedAfter(resumed.resumedAt) shouldBeGreaterThan 100 }
                        publishing.cancel()
                        publisher.check(resumed, received, old.asAddress)
                    }
                } finally {
                    listener.close()
                    if (fault != "manual failover") topology.restart(old)
                    topology.awaitMaster(masterName, notEqualTo = old)
                }
            }
        }
    })
