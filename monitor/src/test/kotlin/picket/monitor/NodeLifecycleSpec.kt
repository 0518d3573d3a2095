package picket.monitor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.RedisCommandExecutionException
import kotlinx.coroutines.delay
import picket.core.Address
import picket.core.Picket
import picket.core.SentinelGroup
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.net.InetAddress
import java.net.ServerSocket
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The monitor's connections and nodes on their own real topology (1 master, 2 replicas, 3 sentinels): INFO all where
 * INFO everything is refused, dead nodes holding no polling permit, connections closed with their node, and replicas,
 * sentinels and groups coming and going. A topology of its own because the last spec resets the sentinels.
 */
class NodeLifecycleSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val options =
            MonitorOptions(
                minInterval = Duration.ofMillis(200),
                maxInterval = Duration.ofMillis(1_200),
                connectTimeout = Duration.ofSeconds(1),
                commandTimeout = Duration.ofSeconds(1),
                failureGrace = 2,
                coolOff = Duration.ofMillis(200),
                maxBackoff = Duration.ofSeconds(1),
            )
        val monitor =
            Monitor(picket, listOf(SentinelNodeWatcher(picket, refreshEvery = Duration.ofSeconds(2))), options)
        afterSpec {
            monitor.close()
            picket.close()
        }

        fun state(node: RedisNode): NodeState = monitor.state(node.address).shouldNotBeNull()

        /** The registry's data nodes and their roles. */
        fun registryView(): Map<String, Role> =
            monitor.registry
                .nodes()
                .filter { it.role != Role.SENTINEL }
                .associate { it.id to it.role }

        test("a server that refuses INFO everything (an ACL user allowed INFO all only) is polled with INFO all") {
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }
            val user = "monitor-all"
            val secret = "info-all-only"
            Inspect.acl(replica, "SETUSER", user, "on", ">$secret", "-@all", "+info|all", "+hello", "+ping", "+auth")
            val restricted =
                Monitor(
                    picket,
                    listOf(NodeWatcher.of(listOf(MonitoredNode(Address(replica.host, replica.port), Role.REPLICA)))),
                    MonitorOptions(
                        minInterval = Duration.ofMillis(200),
                        maxInterval = Duration.ofMillis(500),
                        username = user,
                        password = secret,
                    ),
                )
            try {
                // What the server says to that user: INFO everything refused, INFO all answered.
                Inspect.asUser(replica, user, secret) { commands ->
                    shouldThrow<RedisCommandExecutionException> { commands.info("everything") }.message shouldStartWith
                        "NOPERM"
                    commands.info("all") shouldContain "# Replication"
                }
                val state =
                    within(10) {
                        restricted.state(replica.address)!!.also {
                            it.polls shouldBeGreaterThan 2L
                            it.lastError shouldBe null
                        }
                    }
                state.command shouldBe "all"
                state.info!!.role shouldBe "slave"
                state.info.sections.keys shouldContainAll listOf("server", "replication", "commandstats", "keyspace")
                state.consecutiveFailures shouldBe 0
            } finally {
                restricted.close()
                Inspect.on(replica) { it.aclDeluser(user) }
            }
        }

        test(
            "nodes that drop packets hold no polling permit: with 2 permits and 6 such nodes, the others' INFO stays " +
                "fresh",
        ) {
            // Listening sockets that never accept: the kernel queues a connection or two, then drops the SYNs, and
            // nothing ever answers the handshake. A node behind a dead link looks the same to a client.
            val holes = (1..6).map { ServerSocket(0, 1, InetAddress.getLoopbackAddress()) }
            val healthy = topology.dataNodes(masterName)
            val nodes =
                healthy.map { MonitoredNode(Address(it.host, it.port)) } +
                    holes.map { MonitoredNode(Address("127.0.0.1", it.localPort)) }
            val tight =
                Monitor(
                    picket,
                    listOf(NodeWatcher.of(nodes)),
                    options.toBuilder().maxConcurrentPolls(2).build(),
                )
            try {
                within(10) {
                    healthy.forEach {
                        tight.state(it.address)!!.info.shouldNotBeNull()
                        state(it).info.shouldNotBeNull()
                    }
                }
                // For 4 s (the dead nodes fail and retry meanwhile), every healthy node's INFO is never older than
                // its interval plus a margin, beyond what the machine does to the same nodes in the spec's monitor
                // (64 permits, no dead node): a loaded machine's stalls count against both.
                var worst = Duration.ZERO
                var control = Duration.ZERO
                val until = System.nanoTime() + Duration.ofSeconds(4).toNanos()
                while (System.nanoTime() < until) {
                    healthy.forEach { node ->
                        worst = maxOf(worst, tight.state(node.address)!!.let { it.infoAge!! - it.interval })
                        control = maxOf(control, state(node).let { it.infoAge!! - it.interval })
                    }
                    delay(20)
                }
                println(
                    "healthy nodes beside 6 dead ones with 2 permits: worst slack ${worst.toMillis()} ms " +
                        "(${control.toMillis()} ms without them)",
                )
                worst shouldBeLessThan control + Duration.ofMillis(700)
                // And the dead nodes did fail meanwhile (each attempt waits out the connect timeout, without a permit).
                holes.forEach { hole ->
                    tight.state("127.0.0.1:${hole.localPort}")!!.lastError.shouldNotBeNull()
                }
            } finally {
                tight.close()
                holes.forEach { it.close() }
            }
        }

        test("a node removed from the registry has its connection closed, and so has every node on close") {
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }
            val name = "picket-monitor-closing"
            val own =
                Monitor(
                    picket,
                    listOf(NodeWatcher.of(listOf(master, replica).map { MonitoredNode(Address(it.host, it.port)) })),
                    MonitorOptions(
                        minInterval = Duration.ofMillis(200),
                        maxInterval = Duration.ofMillis(500),
                        clientName = name,
                    ),
                )
            try {
                within(10) {
                    Inspect.clientNames(master) shouldContain name
                    Inspect.clientNames(replica) shouldContain name
                }
                own.registry.remove(replica.address) shouldBe true
                within(5) { Inspect.clientNames(replica) shouldNotContain name }
                Inspect.clientNames(master) shouldContain name
            } finally {
                own.close()
            }
            within(5) { Inspect.clientNames(master) shouldNotContain name }
        }

        test(
            "a replica and a sentinel added are followed as soon as the sentinels announce them, and dropped once " +
                "they are stopped and forgotten; a group whose sentinels are all unreachable fails alone",
        ) {
            topology.awaitMaster(masterName)
            val deadPort = ServerSocket(0).use { it.localPort }
            val twoGroups = Picket()
            twoGroups.setSentinelGroups(
                "main" to topology.sentinelGroup(),
                "dead" to SentinelGroup(listOf(Address("127.0.0.1", deadPort))),
            )
            val failures = CopyOnWriteArrayList<MonitorEvent>()
            val watched =
                Monitor(
                    twoGroups,
                    listOf(SentinelNodeWatcher(twoGroups, refreshEvery = Duration.ofSeconds(2))),
                    options,
                ) {
                    failures += it
                }
            val monitors = listOf(monitor, watched)
            try {
                within(15) {
                    watched.registry
                        .nodes()
                        .map { it.id }
                        .toSet() shouldBe topology.nodes.map { it.address }.toSet()
                    failures.filterIsInstance<MonitorEvent.WatcherFailed>().size shouldBeGreaterThanOrEqual 2
                }
                val failed = failures.filterIsInstance<MonitorEvent.WatcherFailed>().first()
                val error = failed.error.shouldBeInstanceOf<SentinelWatchException>()
                error.failures.keys shouldBe setOf("dead")
                error.message shouldStartWith "sentinels of 'dead' could not be asked, their nodes are kept: dead: " +
                    "no sentinel answered: 127.0.0.1:$deadPort: "
                failed.restartIn shouldBeGreaterThan Duration.ZERO

                val replica = topology.startReplica(masterName)
                val sentinel = topology.startSentinel()
                try {
                    within(20) {
                        monitors.forEach { m ->
                            m.registry.node(replica.address) shouldBe
                                MonitoredNode(Address(replica.host, replica.port), Role.REPLICA, masterName, "main")
                            m.registry.node(sentinel.address) shouldBe
                                MonitoredNode(Address(sentinel.host, sentinel.port), Role.SENTINEL, null, "main")
                            m.state(replica.address)!!.info!!.role shouldBe "slave"
                            m.state(sentinel.address)!!.info!!.role shouldBe "sentinel"
                        }
                    }
                } finally {
                    topology.stop(replica)
                    topology.stop(sentinel)
                    topology.sentinels.forEach { Inspect.resetSentinel(it, masterName) }
                }
                within(20) {
                    monitors.forEach { m ->
                        m.registry.node(replica.address) shouldBe null
                        m.registry.node(sentinel.address) shouldBe null
                        m.state(replica.address) shouldBe null
                    }
                }
                // The dead group kept failing all along, alone: no node of it, every node of the live one.
                failures.filterIsInstance<MonitorEvent.WatcherFailed>().forEach {
                    (it.error as SentinelWatchException).failures.keys shouldBe setOf("dead")
                }
                watched.registry.nodes().none { it.group == "dead" } shouldBe true
            } finally {
                watched.close()
                twoGroups.close()
            }
            // The reset sentinels find each other and the replicas again, and the registry follows them.
            within(20) {
                topology.sentinels.forEach {
                    Inspect.otherSentinels(
                        it,
                        masterName,
                    ) shouldBe topology.sentinels.size - 1
                }
                registryView() shouldBe Inspect.sentinelView(topology.sentinels[0], masterName)
            }
        }
    })
