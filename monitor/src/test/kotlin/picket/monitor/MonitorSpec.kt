package picket.monitor

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.NodeKind
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference
import kotlin.time.Duration.Companion.seconds

/** The monitor on one real topology (1 master, 2 replicas, 3 sentinels), healthy, paused, failed over, killed. */
class MonitorSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val options =
            MonitorOptions(
                minInterval = Duration.ofMillis(200),
                maxInterval = Duration.ofMillis(1_200),
                // Thresholds above the sentinels' own traffic to each node (PINGs, hellos, INFO: about 5 ops/s).
                policy = ActivityPolicy(busyOpsPerSecond = 100, idleOpsPerSecond = 20, step = Duration.ofMillis(500)),
                connectTimeout = Duration.ofSeconds(1),
                commandTimeout = Duration.ofSeconds(1),
                failureGrace = 2,
                coolOff = Duration.ofMillis(200),
                maxBackoff = Duration.ofSeconds(1),
            )
        val events = CopyOnWriteArrayList<MonitorEvent>()
        val supervised = CopyOnWriteArrayList<MonitorEvent>()
        val monitor =
            Monitor(picket, listOf(SentinelNodeWatcher(picket, refreshEvery = Duration.ofSeconds(2))), options) {
                supervised +=
                    it
            }
        monitor.registerListener { events += it }
        // A Picket that never resolves the master, subscribed (economy mode) to a sentinel that does not lead the
        // failovers below (the kit sends SENTINEL FAILOVER to the first one): it gets no SwitchMaster and no
        // FailoverEnded, and its watcher refreshes only every minute, so only the sentinels' own +switch-master can
        // make it follow a failover within seconds.
        val quiet = Picket()
        quiet.setSentinelGroups(
            "main" to
                SentinelGroup(topology.sentinels.drop(1).map { Address(it.host, it.port) }, subscribeToAll = false),
        )
        val follower =
            Monitor(quiet, listOf(SentinelNodeWatcher(quiet, refreshEvery = Duration.ofSeconds(60))), options)
        val server = MonitorServer(monitor, InetSocketAddress("127.0.0.1", 0)).start()
        val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
        val json = ObjectMapper()
        afterSpec {
            server.close()
            monitor.close()
            follower.close()
            quiet.close()
            picket.close()
        }

        fun get(path: String): HttpResponse<String> =
            http.send(
                HttpRequest
                    .newBuilder(URI("${server.uri}$path"))
                    .timeout(Duration.ofSeconds(10))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString(),
            )

        fun post(path: String): HttpResponse<String> =
            http.send(
                HttpRequest
                    .newBuilder(
                        URI("${server.uri}$path"),
                    ).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString(),
            )

        suspend fun getJson(path: String): JsonNode = withContext(Dispatchers.IO) { json.readTree(get(path).body()) }

        /** The registry's data nodes and their roles. */
        fun registryView(of: Monitor = monitor): Map<String, Role> =
            of.registry
                .nodes()
                .filter { it.role != Role.SENTINEL }
                .associate { it.id to it.role }

        fun state(node: RedisNode): NodeState = monitor.state(node.address).shouldNotBeNull()

        /**
         * Waits until the registry of [of] is the view of a sentinel that has switched away from [old] and the new
         * master's own INFO, as [of] polled it, says master; returns the time since [since] (System.nanoTime).
         */
        suspend fun awaitFollowed(
            of: Monitor,
            old: RedisNode,
            since: Long,
        ): Duration =
            withTimeout(30.seconds) {
                while (true) {
                    val view =
                        topology.sentinels.firstNotNullOfOrNull { sentinel ->
                            runCatching { withContext(Dispatchers.IO) { Inspect.sentinelView(sentinel, masterName) } }
                                .getOrNull()
                                ?.takeIf { view ->
                                    view.filterValues { it == Role.MASTER }.keys.single() != old.address
                                }
                        }
                    val promoted = view?.filterValues { it == Role.MASTER }?.keys?.single()
                    if (view != null && registryView(of) == view && of.state(promoted!!)?.info?.role == "master") break
                    delay(50)
                }
                Duration.ofNanos(System.nanoTime() - since)
            }

        test("every node of the topology appears with its role and is polled") {
            val master = topology.awaitMaster(masterName)
            within(20) {
                val nodes = monitor.registry.nodes().associateBy { it.id }
                nodes.keys shouldBe topology.nodes.map { it.address }.toSet()
                topology.dataNodes.forEach { node ->
                    nodes.getValue(node.address) shouldBe
                        MonitoredNode(
                            Address(node.host, node.port),
                            if (node == master) Role.MASTER else Role.REPLICA,
                            masterName,
                            "main",
                        )
                }
                topology.sentinels.forEach { nodes.getValue(it.address).role shouldBe Role.SENTINEL }
                monitor.states().forEach { it.info.shouldNotBeNull() }
            }
            val reported = monitor.states().associate { it.id to it.info!!.role }
            reported shouldBe
                topology.nodes.associate {
                    it.address to
                        when {
                            it.kind == NodeKind.SENTINEL -> "sentinel"
                            it == master -> "master"
                            else -> "slave"
                        }
                }
            val command = state(master).command
            if (topology.binary.version.startsWith("7")) command shouldBe "everything"
            state(master).info!!.sections.keys shouldContainAll
                listOf("server", "memory", "replication", "keyspace", "commandstats")
        }

        test(
            "under writes on the master and none on a replica, the master's interval sits at the minimum, the " +
                "replica's near the maximum",
        ) {
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }
            val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
            val writes = AtomicLong()
            val failed = AtomicReference<Throwable>()
            val load =
                CoroutineScope(Dispatchers.Default).launch {
                    while (isActive) {
                        try {
                            picket.withConn(spec) { set("load:${writes.incrementAndGet() % 100}", "x") }
                        } catch (e: CancellationException) {
                            throw e
                        } catch (
                            @Suppress("TooGenericExceptionCaught") e: Exception,
                        ) {
                            failed.compareAndSet(null, e)
                        }
                    }
                }
            try {
                within(20) {
                    failed.get() shouldBe null
                    writes.get() shouldBeGreaterThan 1_000L
                    val m = state(master)
                    val r = state(replica)
                    m.info!!.opsPerSecond!! shouldBeGreaterThan 100L
                    m.interval shouldBe options.minInterval
                    // The replica applies the master's writes (its own ops/s is as high); only client traffic counts,
                    // which servers before Redis 7 do not report apart.
                    if (r.info!!["instantaneous_input_repl_kbps"] != null) {
                        r.info.opsPerSecond!! shouldBeGreaterThan 100L
                        r.interval shouldBeGreaterThan m.interval
                        r.interval shouldBeGreaterThan Duration.ofMillis(700)
                    }
                }
            } finally {
                load.cancel()
            }
        }

        test("a node paused with SIGSTOP delays the polling of no other, is reported down, and comes back") {
            val master = topology.awaitMaster(masterName)
            val paused = topology.dataNodes(masterName).last { it != master }
            val others = topology.nodes.filter { it != paused }
            topology.pause(paused)
            try {
                val down =
                    withTimeout(15.seconds) {
                        var worst = Duration.ZERO
                        while (!state(paused).down) {
                            others.forEach { node ->
                                val s = state(node)
                                val slack = s.infoAge!! - s.interval
                                if (slack > worst) worst = slack
                            }
                            delay(50)
                        }
                        worst
                    }
                // Each other node's INFO is never older than its interval plus a margin for a loaded machine.
                down shouldBeLessThan Duration.ofMillis(1_500)
                val s = state(paused)
                s.lastError.shouldNotBeNull()
                s.info.shouldNotBeNull()
                s.consecutiveFailures shouldBeGreaterThanOrEqual options.failureGrace
                // The state flips first, the event follows it (emitted after the poller's lock is released).
                within(5) {
                    events.filterIsInstance<MonitorEvent.NodeDown>().map { it.node.id } shouldContainAll
                        listOf(paused.address)
                }
                // A forced refresh of every node is bounded by the timeouts, not failed by the paused one: the
                // others answer fresh, the paused one with its last INFO and its growing age.
                val began = System.nanoTime()
                val refreshed = monitor.refresh(InfoQuery())
                val took = Duration.ofNanos(System.nanoTime() - began)
                took shouldBeLessThan options.connectTimeout + options.commandTimeout + Duration.ofSeconds(2)
                refreshed[paused.address]!!.meta.down shouldBe true
                others.filter { it.kind == NodeKind.DATA }.forEach { node ->
                    refreshed[node.address]!!.meta.infoAge!! shouldBeLessThan took + Duration.ofMillis(500)
                }
            } finally {
                topology.resume(paused)
            }
            within(15) {
                state(paused).down shouldBe false
                events.filterIsInstance<MonitorEvent.NodeUp>().map { it.node.id } shouldContainAll
                    listOf(paused.address)
            }
        }

        test("the HTTP endpoint answers queries with the documented JSON; 64-bit integers survive it") {
            val master = topology.awaitMaster(masterName)
            val replica = topology.dataNodes(masterName).first { it != master }

            val masters = getJson("/info?role=master&key=used_memory,role,db0")
            masters["nodes"].size() shouldBe 1
            val entry = masters["nodes"][0]
            entry["meta"]["node_id"].asText() shouldBe master.address
            entry["meta"]["role"].asText() shouldBe "master"
            entry["meta"]["master_name"].asText() shouldBe masterName
            entry["meta"]["group"].asText() shouldBe "main"
            entry["meta"]["info_age_seconds"].isNumber shouldBe true
            entry["meta"]["down"].asBoolean() shouldBe false
            entry["info"].fieldNames().asSequence().toSet() shouldBe setOf("used_memory", "role", "db0")
            entry["info"]["used_memory"].isIntegralNumber shouldBe true
            entry["info"]["db0"]["keys"].isIntegralNumber shouldBe true

            val stats = getJson("/info?node=${replica.address}&key=cmdstat_&prefix=true")["nodes"][0]["info"]
            stats
                .fieldNames()
                .asSequence()
                .toList()
                .forEach { it shouldStartWith "cmdstat_" }
            stats["cmdstat_info"]["calls"].asLong() shouldBeGreaterThan 0L
            val sections = getJson("/info?node=${replica.address}&section=replication")["nodes"][0]["info"]
            sections["role"].asText() shouldBe "slave"
            sections.has("used_memory") shouldBe false

            get("/info?node=10.9.9.9:1").let {
                it.statusCode() shouldBe 404
                json.readTree(it.body())["error"]["type"].asText() shouldBe "UnknownNodeException"
                json.readTree(it.body())["error"]["message"].asText() shouldBe
                    "node '10.9.9.9:1' is not in the registry (6 nodes are)"
            }
            val partial = getJson("/info?node=10.9.9.9:1,${master.address}&allow_partial=true&key=role")["nodes"]
            partial.size() shouldBe 2
            partial[0]["error"]["type"].asText() shouldBe "UnknownNodeException"
            partial[0]["meta"]["node_id"].asText() shouldBe "10.9.9.9:1"
            partial[1]["info"]["role"].asText() shouldBe "master"
            get("/info?section=nosuch").let {
                it.statusCode() shouldBe 400
                json.readTree(it.body())["error"]["type"].asText() shouldBe "UnknownSectionException"
            }
            get("/info?colour=blue").statusCode() shouldBe 400
            get("/refresh").statusCode() shouldBe 405
            getJson("/nodes")["nodes"].size() shouldBe 6

            // maxAge leaves out stale answers, as the seed does; the forced refresh returns fresh ones.
            getJson("/info?max_age=0")["nodes"].size() shouldBe 0
            try {
                Inspect.on(replica) { it.configSet("maxmemory", "9007199254740993") }
                val refreshed =
                    withContext(
                        Dispatchers.IO,
                    ) { json.readTree(post("/refresh?node=${replica.address}&key=maxmemory&max_age=1").body()) }
                val fresh = refreshed["nodes"][0]
                fresh["meta"]["info_age_seconds"].asDouble() shouldBeLessThan 1.0
                fresh["info"]["maxmemory"].isIntegralNumber shouldBe true
                fresh["info"]["maxmemory"].asLong() shouldBe 9_007_199_254_740_993L
                monitor
                    .query(
                        InfoQuery(nodes = listOf(replica.address)),
                    )[replica.address]!!
                    .fields!!["maxmemory"] shouldBe
                    9_007_199_254_740_993L
                val asString =
                    getJson(
                        "/info?node=${replica.address}&key=maxmemory,used_memory&int64=string",
                    )["nodes"][0]["info"]
                asString["maxmemory"].isTextual shouldBe true
                asString["maxmemory"].asText() shouldBe "9007199254740993"
                asString["used_memory"].isIntegralNumber shouldBe true
            } finally {
                Inspect.on(replica) { it.configSet("maxmemory", "0") }
            }
        }

        test("the Prometheus endpoint parses as the text format, with every node's main figures") {
            val master = topology.awaitMaster(masterName)
            val response = withContext(Dispatchers.IO) { get("/metrics") }
            response.statusCode() shouldBe 200
            response.headers().firstValue("Content-Type").get() shouldStartWith "text/plain; version=0.0.4"
            val families = PromText.parse(response.body())
            listOf(
                "picket_redis_up",
                "picket_redis_info_age_seconds",
                "picket_redis_memory_used_bytes",
                "picket_redis_connected_clients",
                "picket_redis_instantaneous_ops_per_second",
                "picket_redis_replication_offset_bytes",
                "picket_redis_replication_lag_bytes",
                "picket_redis_reported_role",
            ).forEach { families.getValue(it).type shouldBe "gauge" }
            val up = families.getValue("picket_redis_up").samples
            up.map { it.labels.getValue("node") }.toSet() shouldBe topology.nodes.map { it.address }.toSet()
            up.forEach { it.value shouldBe 1.0 }
            val memory =
                families.getValue("picket_redis_memory_used_bytes").samples.single {
                    it.labels["node"] ==
                        master.address
                }
            memory.labels shouldBe
                mapOf("node" to master.address, "role" to "master", "master_name" to masterName, "group" to "main")
            memory.value shouldBeGreaterThan 0.0
            families.getValue("picket_redis_replication_lag_bytes").samples shouldHaveSize 2
            families
                .getValue("picket_redis_reported_role")
                .samples
                .single { it.labels["node"] == master.address }
                .labels["reported_role"] shouldBe "master"
        }

        test("bad input: typed errors; a throwing watcher and a throwing rule are reported and polling goes on") {
            val master = topology.awaitMaster(masterName)
            shouldThrow<UnknownNodeException> {
                monitor.query(
                    InfoQuery(nodes = listOf("10.9.9.9:1")),
                )
            }.message shouldBe
                "node '10.9.9.9:1' is not in the registry (6 nodes are)"
            shouldThrow<UnknownSectionException> { monitor.query(InfoQuery(sections = listOf("memory", "nosuch"))) }
                .message shouldContain "INFO has no section 'nosuch' (known: clients, cluster, commandstats"
            monitor.registry.add(MonitoredNode.of("127.0.0.1:1")) shouldBe true
            try {
                val error =
                    within(10) {
                        shouldThrow<NodeNotPolledException> {
                            monitor.query(
                                InfoQuery(nodes = listOf("127.0.0.1:1")),
                            )
                        }.also {
                            it.lastError.shouldNotBeNull()
                        }
                    }
                error.message shouldStartWith "node '127.0.0.1:1' has not been polled yet: its polls fail ("
                // Unpolled nodes are left out of a query for every node, or listed with their error if partial.
                monitor.query(InfoQuery(keys = listOf("role"))).entries.map { it.meta.nodeId } shouldBe
                    monitor.registry
                        .nodes()
                        .map { it.id }
                        .filter { it != "127.0.0.1:1" }
                monitor
                    .query(InfoQuery(keys = listOf("role"), allowPartial = true))["127.0.0.1:1"]!!
                    .error
                    .shouldNotBeNull()
            } finally {
                monitor.registry.remove("127.0.0.1:1") shouldBe true
            }

            val failures = CopyOnWriteArrayList<MonitorEvent>()
            var calls = 0
            val throwingRule =
                PollingPolicy { current, _, _, _ ->
                    calls++
                    if (calls % 2 == 0) error("rule broke") else current
                }
            val node = MonitoredNode(Address(master.host, master.port), Role.MASTER)
            val broken =
                Monitor(
                    picket,
                    listOf(NodeWatcher { error("registry down") }, NodeWatcher.of(listOf(node))),
                    options.toBuilder().policy(throwingRule).build(),
                ) { failures += it }
            try {
                within(15) {
                    failures.filterIsInstance<MonitorEvent.WatcherFailed>().size shouldBeGreaterThanOrEqual 2
                    failures.filterIsInstance<MonitorEvent.PollerFailed>().size shouldBeGreaterThanOrEqual 2
                    broken.state(node.id)!!.polls shouldBeGreaterThan 4L
                }
                val watcherFailed = failures.filterIsInstance<MonitorEvent.WatcherFailed>().first()
                watcherFailed.error.message shouldBe "registry down"
                watcherFailed.restartIn shouldBeGreaterThan Duration.ZERO
                failures
                    .filterIsInstance<MonitorEvent.PollerFailed>()
                    .first()
                    .error.message shouldBe "rule broke"
                broken.registry.nodes() shouldBe listOf(node)
            } finally {
                broken.close()
            }
            supervised.filterIsInstance<MonitorEvent.Failure>() shouldBe emptyList()
        }

        test("the group and master name filters narrow queries, in Kotlin and over HTTP, alone and with role") {
            val master = topology.awaitMaster(masterName)
            val data = topology.dataNodes(masterName).map { it.address }.toSet()
            val every = topology.nodes.map { it.address }.toSet()
            // A node of another group and master name, added by hand: never polled (nothing listens there).
            val port = ServerSocket(0).use { it.localPort }
            val side = MonitoredNode(Address("127.0.0.1", port), Role.REPLICA, "other", "side")
            monitor.registry.add(side) shouldBe true
            try {
                fun ids(query: InfoQuery) =
                    monitor
                        .query(query)
                        .entries
                        .map { it.meta.nodeId }
                        .toSet()

                suspend fun httpIds(params: String) =
                    getJson("/info?key=role&$params")["nodes"].map { it["meta"]["node_id"].asText() }.toSet()

                ids(InfoQuery(group = "main")) shouldBe every
                ids(InfoQuery(masterName = masterName)) shouldBe data
                ids(InfoQuery(group = "main", masterName = masterName, role = Role.REPLICA)) shouldBe
                    data - master.address
                ids(InfoQuery(group = "nosuch")) shouldBe emptySet()
                ids(InfoQuery(masterName = "nosuch")) shouldBe emptySet()
                // The other group's node is left out of a query for every node while it is not polled, and listed
                // with its error if partial: the filters apply to it as to the others.
                ids(InfoQuery(group = "side")) shouldBe emptySet()
                monitor.query(InfoQuery(group = "side", allowPartial = true)).entries.single().let {
                    it.meta.nodeId shouldBe side.id
                    it.meta.group shouldBe "side"
                    it.meta.masterName shouldBe "other"
                    it.error.shouldBeInstanceOf<NodeNotPolledException>()
                }
                ids(InfoQuery(masterName = "other", allowPartial = true)) shouldBe setOf(side.id)
                ids(InfoQuery(group = "main", allowPartial = true)) shouldBe every
                // A named node that the filters exclude is left out.
                ids(InfoQuery(nodes = listOf(master.address), group = "side")) shouldBe emptySet()

                httpIds("group=main") shouldBe every
                httpIds("master=$masterName") shouldBe data
                httpIds("group=main&master=$masterName&role=replica") shouldBe data - master.address
                httpIds("master=$masterName&role=master") shouldBe setOf(master.address)
                httpIds("group=nosuch") shouldBe emptySet()
                httpIds("master=other&allow_partial=true") shouldBe setOf(side.id)
                getJson("/info?group=side&allow_partial=true")["nodes"][0]["error"]["type"].asText() shouldBe
                    "NodeNotPolledException"
                get("/info?group=main&group=side").let {
                    it.statusCode() shouldBe 400
                    json.readTree(it.body())["error"]["message"].asText() shouldBe
                        "parameter 'group' is given 2 times: [main, side]"
                }
                // Refresh honours them too: only the filtered nodes are polled and answered.
                monitor
                    .refresh(InfoQuery(masterName = masterName, keys = listOf("role")))
                    .entries
                    .map {
                        it.meta.nodeId
                    }.toSet() shouldBe data
            } finally {
                monitor.registry.remove(side.id) shouldBe true
            }
        }

        test(
            "after a manual failover the registry's roles match the sentinels' within one polling round of the switch",
        ) {
            val old = topology.awaitMaster(masterName)
            val switched = CompletableDeferred<Long>()
            val handle =
                picket.registerListener {
                    if (it is PicketEvent.SwitchMaster) {
                        switched.complete(
                            System.nanoTime(),
                        )
                    }
                }
            try {
                topology.failover(masterName)
                val at = withTimeout(30.seconds) { switched.await() }
                val matched = awaitFollowed(monitor, old, at)
                // The Picket that never resolved the master follows the sentinels' +switch-master itself.
                val followed = awaitFollowed(follower, old, at)
                println(
                    "manual failover: registry and polled roles matched the sentinels ${matched.toMillis()} ms after " +
                        "the switch; ${followed.toMillis()} ms for the monitor whose Picket never resolved the master",
                )
                matched shouldBeLessThan options.maxInterval + FOLLOW_MARGIN
                followed shouldBeLessThan options.maxInterval + FOLLOW_MARGIN
                registryView()[old.address] shouldBe Role.REPLICA
            } finally {
                handle.close()
            }
            val settled = topology.awaitMaster(masterName, notEqualTo = old)
            within(10) { state(old).info!!.role shouldBe "slave" }
            registryView()[settled.address] shouldBe Role.MASTER
        }

        test(
            "after kill -9 of the master the roles follow the sentinels and the killed node is down, its INFO ageing",
        ) {
            val old = topology.awaitMaster(masterName)
            val switched = CompletableDeferred<Long>()
            val handle =
                picket.registerListener { if (it is PicketEvent.SwitchMaster) switched.complete(System.nanoTime()) }
            try {
                topology.kill(old)
                val at = withTimeout(30.seconds) { switched.await() }
                // Within one polling round of the switch (plus a margin for a loaded machine): the registry is the
                // sentinels' view, the killed master a replica in it, and the promoted node's own INFO says master.
                val matched = awaitFollowed(monitor, old, at)
                val followed = awaitFollowed(follower, old, at)
                println(
                    "kill -9: registry and polled roles matched the sentinels ${matched.toMillis()} ms after the " +
                        "switch (${followed.toMillis()} ms for the monitor whose Picket never resolved the master)",
                )
                matched shouldBeLessThan options.maxInterval + FOLLOW_MARGIN
                followed shouldBeLessThan options.maxInterval + FOLLOW_MARGIN
                registryView()[old.address] shouldBe Role.REPLICA
            } finally {
                handle.close()
            }
            val dead = within(10) { state(old).also { it.down shouldBe true } }
            dead.info.shouldNotBeNull()
            dead.lastError.shouldNotBeNull()
            within(10) { state(old).infoAge!! shouldBeGreaterThan dead.infoAge!! + Duration.ofSeconds(1) }
            val meta = getJson("/info?node=${old.address}&key=role")["nodes"][0]["meta"]
            meta["down"].asBoolean() shouldBe true
            meta["role"].asText() shouldBe "replica"
            meta["info_age_seconds"].asDouble() shouldBeGreaterThan dead.infoAge!!.toMillis() / 1_000.0
        }
    })

/** One polling round's margin for a loaded machine: a sentinel question, a poll, the scheduling. */
private val FOLLOW_MARGIN: Duration = Duration.ofSeconds(2)
