package picket.sentinel

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketConfig
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SentinelUri
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/**
 * Configuration as Java users write it, against a real topology with passwords on data nodes and sentinels: a
 * Picket built with `Picket.builder()` from a `redis-sentinel://` URI and from properties writes on the master and
 * reads from a replica.
 */
class ConfigSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 1
                dataPassword = "data-secret"
                sentinelPassword = "sentinel-secret"
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val sentinels = topology.sentinels.joinToString(",") { "${it.host}:${it.port}" }

        test("a Picket built from a redis-sentinel URI writes on the master and reads from a replica")
            .config(timeout = 60.seconds) {
                val uri =
                    SentinelUri.parse(
                        "redis-sentinel://:data-secret@$sentinels/3?timeout=5s&clientName=config-spec" +
                            "&sentinelPassword=sentinel-secret#$masterName",
                    )
                val events = CopyOnWriteArrayList<PicketEvent>()
                Picket.builder().sentinelGroup("main", uri.group).listener { events += it }.build().use { picket ->
                    val spec = uri.spec("main")
                    picket.withConn(spec) { set("from-uri", "written") } shouldBe "OK"
                    val master = topology.awaitMaster(masterName)
                    picket.withConn(spec) { role().first() to clientGetname() } shouldBe ("master" to "config-spec")
                    val (value, role) =
                        eventually(20.seconds) {
                            picket.withConn(spec.preferReplica(fallbackToMaster = false)) {
                                (get("from-uri") ?: error("not replicated yet")) to role().first()
                            }
                        }
                    (value to role) shouldBe ("written" to "slave")
                    // The listener given to the builder was registered before the group: it saw the resolution.
                    eventually(10.seconds) {
                        events.filterIsInstance<PicketEvent.MasterResolved>().map {
                            it.address.port
                        } shouldContainExactly
                            listOf(master.port)
                    }
                }
            }

        test("declare() adds the URI's group and returns its spec").config(timeout = 60.seconds) {
            Picket().use { picket ->
                val spec =
                    picket.declare(
                        "orders",
                        "redis-sentinel://:data-secret@$sentinels?sentinelPassword=sentinel-secret#$masterName",
                    )
                picket.withConn(spec) { incr("declared") } shouldBe 1L
                picket.sentinelGroups() shouldBe setOf("orders")
            }
        }

        test("a Picket built from properties writes on the master and reads from a replica")
            .config(timeout = 60.seconds) {
                val config =
                    PicketConfig.from(
                        mapOf(
                            "picket.sentinel-groups.main.sentinels" to sentinels,
                            "picket.sentinel-groups.main.password" to "sentinel-secret",
                            "picket.sentinel-groups.main.connect-timeout" to "500ms",
                            "picket.specs.writes.group" to "main",
                            "picket.specs.writes.master-name" to masterName,
                            "picket.specs.writes.password" to "data-secret",
                            "picket.specs.writes.durability" to "all-replicas",
                            "picket.specs.writes.durability-timeout" to "5s",
                            "picket.specs.reads.group" to "main",
                            "picket.specs.reads.master-name" to masterName,
                            "picket.specs.reads.password" to "data-secret",
                            "picket.specs.reads.read-from" to "replica",
                        ),
                    )
                Picket.builder().sentinelGroups(config.sentinelGroups).build().use { picket ->
                    picket.sentinelGroup("main").toString() shouldBe config.sentinelGroups["main"].toString()
                    // Every replica confirms the write before the block returns: the replica read sees it at once.
                    picket.withConn(config.spec("writes")) { set("from-properties", "durable") } shouldBe "OK"
                    picket.withConn(config.spec("reads")) { get("from-properties") to role().first() } shouldBe
                        ("durable" to "slave")
                }
            }

        test("a group built with the builder resolves like one built with the constructor")
            .config(timeout = 60.seconds) {
                val group =
                    SentinelGroup
                        .builder()
                        .sentinels(topology.sentinels.map { Address(it.host, it.port) })
                        .password("sentinel-secret")
                        .build()
                Picket.builder().sentinelGroup("built", group).build().use { picket ->
                    val spec = ConnSpec.sentinel("built", masterName).password("data-secret").build()
                    picket.withConn(spec) { role().first() } shouldBe "master"
                }
            }

        test("a Picket built with a handler executor calls its listeners and an async transaction's block on it")
            .config(timeout = 60.seconds) {
                val count = AtomicInteger()
                val executor =
                    Executors.newCachedThreadPool { task -> Thread(task, "app-handler-${count.incrementAndGet()}") }
                try {
                    val listenerThreads = CopyOnWriteArrayList<String>()
                    val group =
                        SentinelGroup
                            .builder()
                            .sentinels(topology.sentinels.map { Address(it.host, it.port) })
                            .password("sentinel-secret")
                            .build()
                    Picket
                        .builder()
                        .handlerExecutor(executor)
                        .sentinelGroup("main", group)
                        .listener { listenerThreads += Thread.currentThread().name }
                        .build()
                        .use { picket ->
                            val spec = ConnSpec.sentinel("main", masterName).password("data-secret").build()
                            val blockThread = CompletableFuture<String>()
                            val outcome =
                                picket
                                    .async()
                                    .transaction(spec, listOf("handled")) { tx ->
                                        blockThread.complete(Thread.currentThread().name)
                                        tx.multi { it.incr("handled") }
                                    }.get(20, TimeUnit.SECONDS)
                            outcome.committed shouldBe true
                            blockThread.get() shouldStartWith "app-handler-"
                            eventually(10.seconds) { listenerThreads.isEmpty() shouldBe false }
                            listenerThreads.forEach { it shouldStartWith "app-handler-" }
                        }
                    // The instance never shuts the executor down: it is the caller's.
                    executor.isShutdown shouldBe false
                } finally {
                    executor.shutdownNow()
                }
            }
    })
