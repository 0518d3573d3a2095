package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.Balancer
import picket.core.ConnSpec
import picket.core.MasterLinkDownException
import picket.core.NodeBusyException
import picket.core.NodeLoadingException
import picket.core.NodeOutOfMemoryException
import picket.core.NotEnoughReplicasException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/**
 * Redis's replies that describe a node's state, not the command: typed as [picket.core.NodeStateException]s naming
 * the node, not retried where nothing says the state passes, and a replica that is loading or cut from its master
 * passed over so that no caller sees it while another node can serve.
 *
 * One sentinel with Sentinel's own 10 s INFO period for replicas, as in production: Sentinel then lists a restarted
 * replica as healthy for seconds while it still answers `LOADING` (its last INFO said the link was up).
 */
class NodeStateSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                sentinels = 1
                quorum = 1
                sentinelInfoPeriod = null
                // No failover here: a master busy with a script (BUSY is no valid PING reply) must not be marked down.
                downAfter = java.time.Duration.ofSeconds(30)
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val spec = ConnSpec(sentinelGroup = "g", masterName = masterName)

        fun pinnedTo(replica: RedisNode) =
            spec.preferReplica(
                balancer =
                    Balancer { candidates ->
                        candidates.firstOrNull { it == replica.asAddress }
                            ?: candidates.first()
                    },
                fallbackToMaster = false,
            )

        fun picket() = Picket().apply { setSentinelGroups("g" to topology.sentinelGroup()) }

        test("a master short of replicas for min-replicas-to-write fails the block with NotEnoughReplicasException") {
            val master = topology.awaitMaster(masterName)
            picket().use { picket ->
                val log = EventLog(picket)
                picket.withConn(spec) { set("k", "before") } shouldBe "OK"
                Inspect.on(master) { it.configSet("min-replicas-to-write", "5") }
                try {
                    val runs = AtomicInteger()
                    val error =
                        shouldThrow<NotEnoughReplicasException> {
                            picket.withConn(spec) {
                                runs.incrementAndGet()
                                set("k", "refused")
                            }
                        }
                    error.address shouldBe master.asAddress
                    error.target shouldBe "g/$masterName"
                    error.reply shouldStartWith "NOREPLICAS"
                    error.message shouldBe
                        "${master.asAddress} (g/$masterName) has too few good replicas to accept writes " +
                        "(min-replicas-to-write); the command did not run: ${error.reply}"
                    error.cause as RedisCommandExecutionException
                    // Not retried (nothing says when replicas come back); the master stays cached: it is the right one.
                    runs.get() shouldBe 1
                    log.ofType<PicketEvent.EntryInvalidated>().shouldBeEmpty()
                    picket.status("g").masters[masterName] shouldBe master.asAddress
                } finally {
                    Inspect.on(master) { it.configSet("min-replicas-to-write", "0") }
                }
                picket.withConn(spec) { get("k") } shouldBe "before"
            }
        }

        test("a master out of memory fails the block with NodeOutOfMemoryException naming the node") {
            val master = topology.awaitMaster(masterName)
            picket().use { picket ->
                picket.withConn(spec) { ping() } shouldBe "PONG"
                Inspect.on(master) {
                    it.configSet("maxmemory-policy", "noeviction")
                    it.configSet("maxmemory", "1")
                }
                try {
                    val error = shouldThrow<NodeOutOfMemoryException> { picket.withConn(spec) { set("k2", "v") } }
                    error.address shouldBe master.asAddress
                    error.reply shouldStartWith "OOM"
                    error.message shouldContain "is out of memory (maxmemory)"
                } finally {
                    Inspect.on(master) { it.configSet("maxmemory", "0") }
                }
                picket.withConn(spec) { set("k2", "v") } shouldBe "OK"
            }
        }

        test("a master busy with a long script fails the block with NodeBusyException, without running it again") {
            val master = topology.awaitMaster(masterName)
            picket().use { picket ->
                picket.withConn(spec) { ping() } shouldBe "PONG"
                Inspect.on(master) { it.configSet("lua-time-limit", "100") }
                try {
                    coroutineScope {
                        // A script that spins for 1.5 s; past lua-time-limit every other client is answered BUSY.
                        val script =
                            async(Dispatchers.IO) {
                                Inspect.on(master) {
                                    it.eval<Long>(
                                        "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2] " +
                                            "while true do local n = redis.call('TIME') " +
                                            "if n[1] * 1000000 + n[2] - start > 1500000 then return 1 end end",
                                        ScriptOutputType.INTEGER,
                                    )
                                }
                            }
                        within(5) {
                            shouldThrow<RedisCommandExecutionException> { Inspect.on(master) { it.get("k") } }
                                .message shouldStartWith "BUSY"
                        }
                        val runs = AtomicInteger()
                        val error =
                            shouldThrow<NodeBusyException> {
                                picket.withConn(spec) {
                                    runs.incrementAndGet()
                                    get("k")
                                }
                            }
                        runs.get() shouldBe 1
                        error.address shouldBe master.asAddress
                        error.reply shouldStartWith "BUSY"
                        error.message shouldContain "is busy running a script or function"
                        script.await() shouldBe 1L
                    }
                } finally {
                    Inspect.on(master) { it.configSet("lua-time-limit", "5000") }
                }
                picket.withConn(spec) { ping() } shouldBe "PONG"
            }
        }

        test("a replica restarted with seconds of data to load is passed over: no LOADING reaches a reader") {
            val master = topology.awaitMaster(masterName)
            val (loading, other) = topology.dataNodes(masterName).filter { it != master }
            Inspect.on(master) {
                it.eval<Long>(
                    "for i = 1, 2000 do redis.call('SET', 'load:' .. i, 'v') end return 1",
                    ScriptOutputType.INTEGER,
                )
                it.waitForReplication(2, 5_000)
            } shouldBe 2L
            // 2,000 keys at 3 ms each: six seconds of LOADING, answered (events processed every 1 KB loaded).
            Inspect.on(loading) {
                it.configSet("key-load-delay", "3000")
                it.configSet("loading-process-events-interval-bytes", "1024")
                it.configRewrite()
                it.save()
            }

            // Kill it right after the sentinel's INFO (its `info-refresh`: ms since the last INFO reply): Sentinel then
            // lists it with the link up until its next INFO, 10 s later, though it answers LOADING for six of them.
            within(15) {
                val seen =
                    Inspect
                        .onSentinel(topology.sentinels.single()) { it.replicas(masterName) }
                        .single { it["port"] == loading.port.toString() }
                seen.getValue("info-refresh").toLong() shouldBeLessThan 300L
            }

            val readers = picket()
            val readerErrors = CopyOnWriteArrayList<Throwable>()
            val reads = AtomicInteger()
            try {
                withTimeout(60.seconds) {
                    coroutineScope {
                        // Readers on a replica spec throughout: none may fail while the other replica serves.
                        val readerJobs =
                            List(4) {
                                launch {
                                    while (isActive) {
                                        try {
                                            readers.withConn(spec.preferReplica(fallbackToMaster = false)) {
                                                get("load:1")
                                            } shouldBe "v"
                                            reads.incrementAndGet()
                                        } catch (e: PicketException) {
                                            readerErrors += e
                                        } catch (e: RedisCommandExecutionException) {
                                            readerErrors += e
                                        }
                                    }
                                }
                            }
                        topology.kill(loading)
                        val restarted = async(Dispatchers.IO) { topology.restart(loading) }
                        within(5) {
                            shouldThrow<RedisCommandExecutionException> { Inspect.on(loading) { it.get("load:1") } }
                                .message shouldStartWith "LOADING"
                        }
                        // The sentinel reconnects within a second and still says the link is up.
                        within(5) {
                            val flags =
                                Inspect
                                    .onSentinel(topology.sentinels.single()) { it.replicas(masterName) }
                                    .single { it["port"] == loading.port.toString() }
                            flags["flags"] shouldBe "slave"
                            flags["master-link-status"] shouldBe "ok"
                        }

                        // A fresh instance asks Sentinel, which lists the loading replica as healthy.
                        picket().use { fresh ->
                            val log = EventLog(fresh)
                            repeat(20) { fresh.withConn(pinnedTo(loading)) { get("load:1") } shouldBe "v" }
                            val passed = log.await<PicketEvent.ReplicaPassedOver>()
                            passed.address shouldBe loading.asAddress
                            passed.reply shouldStartWith "LOADING"
                            // Addressed directly, nothing else can serve: the typed error.
                            val direct = ConnSpec(host = loading.host, port = loading.port)
                            val error = shouldThrow<NodeLoadingException> { fresh.withConn(direct) { get("load:1") } }
                            error.address shouldBe Address(loading.host, loading.port)
                            error.reply shouldStartWith "LOADING"
                            error.message shouldContain "is loading its data set"
                        }
                        restarted.await()
                        Inspect.on(loading) { it.get("load:1") } shouldBe "v"
                        readerJobs.forEach { it.cancel() }
                    }
                }
            } finally {
                readers.close()
                if (loading.isRunning) {
                    Inspect.on(loading) {
                        it.configSet("key-load-delay", "0")
                        it.configRewrite()
                    }
                }
            }
            readerErrors.shouldBeEmpty()
            (reads.get() > 0) shouldBe true
            Inspect.on(other) { it.get("load:1") } shouldBe "v"
        }

        test("a replica cut from its master that serves no stale data is passed over; the read runs on the other one") {
            val master = topology.awaitMaster(masterName)
            val (other, cut) = topology.dataNodes(masterName).filter { it != master }
            picket().use { picket ->
                picket.withConn(spec) { set("k3", "v3") } shouldBe "OK"
                Inspect.on(master) { it.waitForReplication(2, 5_000) } shouldBe 2L
                // Picket caches both replicas as Sentinel lists them, then the replica loses its master.
                picket.withConn(pinnedTo(cut)) { get("k3") } shouldBe "v3"
                val log = EventLog(picket)
                Inspect.on(cut) {
                    it.configSet("replica-serve-stale-data", "no")
                    it.replicaof("127.0.0.1", 1)
                }
                try {
                    shouldThrow<RedisCommandExecutionException> { Inspect.on(cut) { it.get("k3") } }
                        .message shouldStartWith "MASTERDOWN"
                    repeat(20) { picket.withConn(pinnedTo(cut)) { get("k3") } shouldBe "v3" }
                    val passed = log.await<PicketEvent.ReplicaPassedOver>()
                    passed.address shouldBe cut.asAddress
                    passed.reply shouldStartWith "MASTERDOWN"
                    // Addressed directly there is no other node: the typed error, after the bounded attempts.
                    val direct = ConnSpec(host = cut.host, port = cut.port)
                    val error = shouldThrow<MasterLinkDownException> { picket.withConn(direct) { get("k3") } }
                    error.address shouldBe cut.asAddress
                    error.target shouldBe "${cut.host}:${cut.port}"
                    error.message shouldContain "has lost its link to the master and serves no stale data"
                    Inspect.on(other) { it.get("k3") } shouldBe "v3"
                } finally {
                    Inspect.on(cut) {
                        it.configSet("replica-serve-stale-data", "yes")
                        it.replicaof(master.host, master.port)
                    }
                }
                topology.awaitMaster(masterName)
            }
        }
    })
