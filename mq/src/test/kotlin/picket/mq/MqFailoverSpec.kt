package picket.mq

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.Picket
import picket.core.PicketEvent
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/** The queue and the list listener across failovers, with producers that confirm every message durably. */
class MqFailoverSpec :
    FunSpec({
        // Three replicas and a short failover timeout, so that three failovers follow each other without waiting for
        // the demoted masters to be converted (about 10 s each) or for Sentinel's pause between elections (2 x 5 s).
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 3
                failoverTimeout = Duration.ofSeconds(5)
            }
        val name = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = name, commandTimeout = Duration.ofSeconds(3))
        afterSpec { picket.close() }
        val switches = CopyOnWriteArrayList<PicketEvent.SwitchMaster>()
        picket.registerListener { if (it is PicketEvent.SwitchMaster) switches += it }

        /** Waits for Picket's [n]th switch and returns the node it switched to. */
        suspend fun switch(n: Int): RedisNode =
            within(30) {
                switches.size shouldBeGreaterThanOrEqual n
                topology.nodeAt(switches[n - 1].newAddress.toString())!!
            }

        test(
            "across a manual failover, a master paused for 10 s and a kill -9: every message acknowledged to a " +
                "producer is handled, by the worker and by the list listener",
        ) {
            withTimeout(150.seconds) {
                val durability = Durability.allReplicas(Duration.ofSeconds(1))
                val queues = picket.queues(spec)
                val enqueued = ConcurrentHashMap.newKeySet<String>()
                val pushed = ConcurrentHashMap.newKeySet<String>()
                val handled = ConcurrentHashMap.newKeySet<String>()
                val heard = ConcurrentHashMap.newKeySet<String>()
                val errors = AtomicInteger()
                val worker =
                    queues.worker("orders", WorkerOptions(concurrency = 4, visibilityTimeout = Duration.ofSeconds(3))) {
                        handled += it.message
                        HandlerResult.success()
                    }
                val listener = ListListener(picket, spec, "events") { m -> m.also { heard += it } }
                val phases = mutableListOf<String>()
                coroutineScope {
                    val listening = launch { listener.listen() }
                    val producing =
                        launch {
                            var i = 0
                            while (isActive) {
                                i++
                                try {
                                    queues.enqueue("orders", "o-$i", EnqueueOptions(durability = durability))
                                    enqueued += "o-$i"
                                    picket.withConn(spec.withDurability(durability)) { lpush("events", "e-$i") }
                                    pushed += "e-$i"
                                } catch (e: CancellationException) {
                                    throw e
                                } catch (
                                    @Suppress("TooGenericExceptionCaught", "SwallowedException") e: Exception,
                                ) {
                                    errors.incrementAndGet()
                                    delay(20)
                                }
                                delay(5)
                            }
                        }

                    suspend fun phase(what: String) {
                        val before = enqueued.size
                        val started = System.nanoTime()
                        within(20) { enqueued.size shouldBeGreaterThan before + 20 }
                        phases += "$what: ${enqueued.size} enqueued, ${pushed.size} pushed " +
                            "(${(System.nanoTime() - started) / 1_000_000} ms to the next 20)"
                    }
                    phase("before")
                    topology.failover(name)
                    val second = switch(1)
                    phase("after a manual failover")
                    val pausedAt = System.nanoTime()
                    topology.pause(second)
                    val third = switch(2)
                    delay(10_000 - (System.nanoTime() - pausedAt) / 1_000_000)
                    topology.resume(second)
                    phase("after the master was paused for 10 s (failed over meanwhile)")
                    topology.kill(third)
                    switch(3)
                    phase("after a kill -9 of the master")
                    producing.cancelAndJoin()
                    phases += "in all: ${enqueued.size} enqueued, ${pushed.size} pushed, $errors errors"
                    within(40) {
                        (enqueued - handled).shouldBeEmpty()
                        (pushed - heard).shouldBeEmpty()
                    }
                    listener.stop()
                    listening.join()
                }
                worker.stop()
                phases.forEach { println("failover spec: $it") }
                println(
                    "failover spec: ${enqueued.size} acknowledged enqueues, all handled (${handled.size} handled); " +
                        "${pushed.size} acknowledged LPUSHes, all heard (${heard.size}); worker ${worker.metrics()}",
                )
                (enqueued - handled) shouldBe emptySet()
            }
        }
    })
