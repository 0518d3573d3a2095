package picket.pubsub

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldNotStartWith
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Picket
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

/** A listener's events: from creation (onEvent), to listeners registered later, as a Flow; the old names still work. */
class PubSubEventsSpec :
    FunSpec({
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
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)

        test("registerListener and events hear what follows, off the I/O thread; the flow completes on close") {
            withTimeout(60.seconds) {
                val first = Events()
                val listener =
                    picket.listen(spec, mapOf(Topic.channel("ev.a") to { _ -> }), ListenerOptions().onEvent(first))
                first.await<PubSubEvent.Connected>().address shouldBe topology.awaitMaster(masterName).asAddress
                first.ofType<PubSubEvent.Subscribed>().map { it.topic } shouldContain Topic.channel("ev.a")

                val registered = Events()
                val threads = CopyOnWriteArrayList<String>()
                val handle =
                    listener.registerListener {
                        registered.onEvent(it)
                        threads += Thread.currentThread().name
                    }
                val collected = CopyOnWriteArrayList<PubSubEvent>()
                coroutineScope {
                    val collecting = launch { listener.events.collect { collected += it } }
                    // Subscribing again is confirmed again: once the collector has heard one, it is registered.
                    within(10) {
                        listener.subscribe("ev.b")
                        collected.filterIsInstance<PubSubEvent.Subscribed>().map { it.topic } shouldContain
                            Topic.channel("ev.b")
                    }
                    listener.unsubscribe("ev.b")
                    val unsubscribed = PubSubEvent.Unsubscribed(Topic.channel("ev.b"), 1)
                    within(10) { collected shouldContain unsubscribed }
                    within(10) { registered.all shouldContain unsubscribed }
                    first.all shouldContain unsubscribed

                    handle.close()
                    listener.psubscribe("ev.*")
                    val subscribed = PubSubEvent.Subscribed(Topic.pattern("ev.*"), 2)
                    within(10) { collected shouldContain subscribed }
                    within(10) { first.all shouldContain subscribed }
                    registered.all shouldNotContain subscribed
                    registered.ofType<PubSubEvent.Connected>().size shouldBe 0
                    threads.forEach { it shouldNotStartWith "lettuce-" }

                    listener.close()
                    collecting.join()
                }
                // The flow completed with the close (the join above returned); it began after the connection.
                collected.filterIsInstance<PubSubEvent.Connected>().size shouldBe 0
            }
        }

        test("the old names compile and are told the same events: onSignal, SignalListener, PubSubSignal.*") {
            withTimeout(60.seconds) {
                val byName = CopyOnWriteArrayList<String>()
                val byMember = CopyOnWriteArrayList<String>()

                @Suppress("DEPRECATION")
                val options = ListenerOptions(onSignal = { if (it is PubSubSignal.Connected) byName += "connected" })

                @Suppress("DEPRECATION")
                val viaMember =
                    ListenerOptions().onSignal(
                        SignalListener { signal: PubSubSignal ->
                            if (signal is PubSubSignal.Subscribed) byMember += "subscribed ${signal.topic}"
                        },
                    )
                val one = picket.listen(spec, mapOf(Topic.channel("old.a") to { _ -> }), options)
                val two = picket.listen(spec, mapOf(Topic.channel("old.b") to { _ -> }), viaMember)
                try {
                    within(10) { byName shouldContainExactly listOf("connected") }
                    within(10) { byMember shouldContainExactly listOf("subscribed ${Topic.channel("old.b")}") }
                } finally {
                    one.close()
                    two.close()
                }
            }
        }
    })
