package picket.monitor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import picket.core.Address
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.PicketInterruptedException
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.function.Supplier
import kotlin.concurrent.thread

/**
 * The monitor as Java calls it: refresh through the blocking and async views, a polling watcher's supplier on the
 * instance's handler threads, an interrupted blocking refresh.
 */
class MonitorJavaSpec :
    FunSpec({
        timeout = 120_000
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val options =
            MonitorOptions
                .builder()
                .intervals(Duration.ofMillis(500), Duration.ofSeconds(3))
                .timeouts(Duration.ofSeconds(1), Duration.ofSeconds(5))
                .build()

        /** A monitor of the master alone, fed by a Java supplier; the threads the supplier ran on. */
        fun monitorOfMaster(threads: MutableList<String>): Monitor {
            val master = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME)
            val supplier =
                Supplier<Collection<MonitoredNode>> {
                    threads += Thread.currentThread().name
                    listOf(MonitoredNode(Address(master.host, master.port)))
                }
            return Monitor(picket, listOf(NodeWatcher.polling(Duration.ofSeconds(1), supplier)), options)
        }

        test("blocking and async refresh answer with fresh INFO; the polling supplier runs on the handler executor") {
            val threads = CopyOnWriteArrayList<String>()
            val master = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME)
            monitorOfMaster(threads).use { monitor ->
                within(10) { monitor.registry.node(master.address).shouldNotBeNull() }
                val query =
                    InfoQuery
                        .builder()
                        .nodes(master.address)
                        .keys("role")
                        .build()

                val blocking = monitor.blocking().refresh(query)
                val entry = blocking[master.address].shouldNotBeNull()
                entry.fields?.get("role") shouldBe "master"
                entry.meta.infoAge.shouldNotBeNull() shouldBeLessThan Duration.ofSeconds(1)

                val async = monitor.async().refresh(query).get(10, TimeUnit.SECONDS)
                async[master.address]
                    .shouldNotBeNull()
                    .meta.infoAge
                    .shouldNotBeNull() shouldBeLessThan Duration.ofSeconds(1)

                threads.shouldNotBeEmpty()
                threads.forEach { it shouldStartWith "DefaultDispatcher-worker-" }

                val unknown = InfoQuery.builder().nodes("10.9.9.9:1").build()
                shouldThrow<UnknownNodeException> { monitor.blocking().refresh(unknown) }
                val failed =
                    shouldThrow<ExecutionException> { monitor.async().refresh(unknown).get(10, TimeUnit.SECONDS) }
                failed.cause.shouldBeInstanceOf<UnknownNodeException>()
            }
        }

        test("a caller interrupted in a blocking refresh gets PicketInterruptedException, its flag kept") {
            val master = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME)
            monitorOfMaster(CopyOnWriteArrayList()).use { monitor ->
                within(10) { monitor.registry.node(master.address).shouldNotBeNull() }
                val query = InfoQuery.builder().nodes(master.address).build()
                topology.pause(master)
                try {
                    val outcome = CompletableFuture<Pair<Throwable?, Boolean>>()
                    val caller =
                        thread(name = "java-caller-refreshing") {
                            // The paused master answers no INFO: the refresh waits up to its 5 s command timeout.
                            val error = runCatching { monitor.blocking().refresh(query) }.exceptionOrNull()
                            outcome.complete(error to Thread.currentThread().isInterrupted)
                        }
                    within(10) { caller.state shouldBe Thread.State.WAITING }
                    val started = System.nanoTime()
                    caller.interrupt()
                    val (error, flagSet) = outcome.get(5, TimeUnit.SECONDS)
                    val interrupted = error.shouldBeInstanceOf<PicketInterruptedException>()
                    interrupted.message shouldBe "interrupted while waiting for refresh of the monitor"
                    interrupted.cause.shouldBeInstanceOf<InterruptedException>()
                    flagSet shouldBe true
                    (System.nanoTime() - started) / 1_000_000 shouldBeLessThan 1_000L
                } finally {
                    topology.resume(master)
                }
                // The monitor goes on.
                monitor.blocking().refresh(query)[master.address].shouldNotBeNull()
            }
        }

        test("the views of a closed monitor throw PicketClosedException") {
            val monitor = monitorOfMaster(CopyOnWriteArrayList())
            monitor.close()
            shouldThrow<PicketClosedException> { monitor.blocking().refresh(InfoQuery()) }
            val failed =
                shouldThrow<ExecutionException> { monitor.async().refresh(InfoQuery()).get(10, TimeUnit.SECONDS) }
            failed.cause.shouldBeInstanceOf<PicketClosedException>()
        }
    })
