package picket.samples

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.Balancers
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketException
import picket.core.SentinelGroup
import picket.lock.locks
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubEvent
import picket.pubsub.Topic
import picket.pubsub.listen
import picket.pubsub.publish
import picket.testkit.NodeRole
import picket.testkit.Topology
import picket.testkit.TopologyConfig
import picket.testkit.WriteLoop
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * The README demo: starts a real topology on loopback (one master, two replicas, three sentinels), resolves the
 * master through the sentinels, writes and reads (also from a replica), triggers a failover and measures how fast
 * Picket follows it, shows a typed error, and tears everything down.
 */
object Demo {
    @JvmStatic
    fun main(args: Array<String>) {
        println("Picket demo: a Redis master group behind Sentinel, started on loopback by picket-testkit")
        Topology.start(TopologyConfig()).use { topology ->
            val binary = topology.binary
            println("binary: redis-server ${binary.version} from ${binary.source} (${binary.path})")
            println("started ${topology.nodes.size} nodes in ${topology.startupTime.toMillis()} ms")
            topology.roles().forEach { (node, role) ->
                println("  %-12s %-16s pid %-8d %s".format(node.name, node.address, node.pid, describe(role)))
            }
            Picket().use { picket -> tour(topology, picket) }
        }
        println("topology stopped: every process it started has exited")
    }

    @Suppress("LongMethod") // the tour reads top to bottom, one part of the demo after another
    private fun tour(
        topology: Topology,
        picket: Picket,
    ) = runBlocking {
        val switched = CompletableDeferred<PicketEvent.SwitchMaster>()
        val ended = CompletableDeferred<PicketEvent.FailoverEnded>()
        picket.registerListener { event ->
            println("  event: $event")
            if (event is PicketEvent.SwitchMaster) switched.complete(event)
            if (event is PicketEvent.FailoverEnded) ended.complete(event)
        }
        picket.setSentinelGroups("demo" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
        val spec =
            ConnSpec(
                sentinelGroup = "demo",
                masterName = TopologyConfig.DEFAULT_MASTER_NAME,
                // Both replicas confirm each block's writes before it returns.
                durability = Durability.allReplicas(Duration.ofSeconds(1)),
            )

        println("write on the master: SET greeting -> " + picket.withConn(spec) { set("greeting", "hello") })
        val read = picket.withConn(spec.preferReplica()) { get("greeting") to role().first() }
        println("read from a replica: GET greeting -> ${read.first} (the node says it is '${read.second}')")

        pairPipelineTransaction(picket, spec.copy(durability = Durability.None))
        contend(picket, spec.copy(durability = Durability.None))

        // Pub/sub: a listener on a channel and a pattern, which follows the failover below by itself.
        val news = News(picket, spec)
        news.before()
        val monitorTable = MonitorTable(picket, topology).apply { before() }
        val busDemo = BusDemo(picket, spec.copy(durability = Durability.None)).apply { before() }

        val status = picket.status("demo")
        val old = status.masters.getValue(TopologyConfig.DEFAULT_MASTER_NAME)
        val epochBefore = status.epochs[TopologyConfig.DEFAULT_MASTER_NAME]
        // Default mode (no WAIT) under a write loop: parking keeps writes off the master being demoted.
        val plain = spec.copy(durability = Durability.None)
        // One SET a millisecond, recording which keys were acknowledged (the test kit's loop).
        val loop = WriteLoop("loop:", this) { key -> picket.withConn(plain) { set(key, "1") } }
        val start = System.nanoTime()
        topology.failover(TopologyConfig.DEFAULT_MASTER_NAME)
        println("failover: SENTINEL FAILOVER sent; the master is $old (config-epoch $epochBefore)")
        val switch = withTimeout(30.seconds) { switched.await() }
        val seen = System.nanoTime()
        val written = picket.withConn(plain) { incr("after-failover") }
        val firstWrite = System.nanoTime()
        println(
            "failover: switch to ${switch.newAddress} seen ${(seen - start) / 1_000_000} ms after the " +
                "command; first write on the new master (INCR -> $written) " +
                "${(firstWrite - seen) / 1_000_000} ms after that",
        )
        news.after(plain)
        monitorTable.use { it.after(switch.newAddress.toString()) }
        busDemo.use { it.after() }
        val parked = withTimeout(30.seconds) { ended.await() }
        val writes = loop.stop()
        val acknowledged = writes.filter { it.acknowledged }.map { it.key }
        val errors = writes.size - acknowledged.size
        // The demo says how many writes failed, and why the first one did.
        val firstError = writes.firstNotNullOfOrNull { it.error }?.message
        val lost =
            picket.withConn(plain) {
                // One copy of at most CHUNK keys per EXISTS: of no account next to the round trip.
                @Suppress("SpreadOperator")
                acknowledged.chunked(CHUNK).sumOf { it.size - exists(*it.toTypedArray())!! }
            }
        println(
            "failover: config-epoch $epochBefore -> ${switch.configEpoch}; ${parked.parkedBlocks} blocks parked for " +
                "${parked.parkedFor.toMillis()} ms, then released onto the new master (${parked.outcome}); " +
                "${acknowledged.size} writes acknowledged, $lost lost, $errors errors" +
                (firstError?.let { " (first: $it)" } ?: ""),
        )

        try {
            picket.withConn(spec.copy(masterName = "no-such-master")) { ping() }
        } catch (e: PicketException) {
            println("typed error: ${e::class.simpleName}: ${e.message}")
        }
    }

    /** Two workers contending for one lock, each printing the fencing tokens it receives. */
    private suspend fun contend(
        picket: Picket,
        spec: ConnSpec,
    ) {
        val tokens = java.util.concurrent.ConcurrentLinkedQueue<String>()
        picket.locks(spec).use { locks ->
            coroutineScope {
                listOf("A", "B").forEach { worker ->
                    launch {
                        repeat(3) {
                            locks.withLock("invoice", Duration.ofSeconds(5), Duration.ofSeconds(5)) { lease ->
                                tokens += "$worker:${lease.fencingToken}"
                                delay(20)
                            }
                        }
                    }
                }
            }
        }
        println("lock: two workers, 3 turns each, in the order they held it (worker:fencing token): $tokens")
        Jobs(picket, spec).run() // the message queue's part: mq's own file, kept out of tour()'s length
    }

    /** A pub/sub listener on `news` and `news.*`, before and after the failover. */
    private class News(
        private val picket: Picket,
        private val spec: ConnSpec,
    ) {
        private val lines = Channel<String>(Channel.UNLIMITED)
        private val resumed = CompletableDeferred<PubSubEvent.Resumed>()
        private val listener =
            picket.listen(
                spec,
                mapOf(
                    Topic.channel("news") to { m -> lines.send("channel ${m.channel}: ${m.payload}") },
                    Topic.pattern("news.*") to { m ->
                        lines.send("pattern ${m.pattern} on ${m.channel}: ${m.payload}")
                    },
                ),
                ListenerOptions(onEvent = { if (it is PubSubEvent.Resumed) resumed.complete(it) }),
            )

        suspend fun before() {
            listener.awaitConnected(Duration.ofSeconds(10))
            val receivers = picket.publish(spec, "news", "before the failover")
            println("pubsub: PUBLISH news -> $receivers receiver(s); got ${lines.receive()}")
            picket.publish(spec, "news.sport", "goal")
            println("pubsub: PUBLISH news.sport; got ${lines.receive()}")
        }

        suspend fun after(plain: ConnSpec) {
            val back = withTimeout(30.seconds) { resumed.await() }
            picket.publish(plain, "news", "after the failover")
            val got = withTimeout(10.seconds) { lines.receive() }
            println(
                "pubsub: the listener resumed by itself on ${back.address} (was ${back.previousAddress}), " +
                    "messages of a ${back.gap.toMillis()} ms window may be missing; got $got",
            )
            listener.close()
        }
    }

    /** The read/write pair with a disconnect after each read, one pipeline and one transaction. */
    private suspend fun pairPipelineTransaction(
        picket: Picket,
        spec: ConnSpec,
    ) {
        // Round robin rather than TwiceRedis's random choice, so that the demo shows both replicas every time.
        val pair = picket.pair(spec, Balancers.roundRobin())
        pair.write.withConn { set("pair", "written through the pair") }
        val nodes =
            (1..6).map {
                pair.read.withConn { get("pair") }
                pair.replica.node.also { pair.replica.disconnect() }
            }
        println("pair: write on the master; 6 reads, each followed by a disconnect and a seamless reconnect: $nodes")
        val replies = picket.pipeline(spec) { repeat(PIPELINED) { i -> add { it.rpush("demo:list", "$i") } } }
        println("pipeline: $PIPELINED RPUSH sent together, ${replies.size} replies, the last ${replies.last()}")
        val outcome =
            picket.transaction(spec, watch = listOf("greeting")) {
                val greeting = redis.get("greeting")
                multi {
                    it.set("greeting", "$greeting again")
                    it.incr("greetings")
                }
            }
        println("transaction: WATCH greeting, MULTI, SET, INCR, EXEC -> $outcome")
    }

    private fun describe(role: NodeRole): String =
        when (role) {
            is NodeRole.Master -> "master with ${role.replicaAddresses.size} replicas"
            is NodeRole.Replica -> "replica of ${role.masterAddress}, link ${if (role.linkUp) "up" else "down"}"
            is NodeRole.Sentinel -> "sentinel monitoring ${role.masterNames.joinToString()}"
            is NodeRole.Unavailable -> "unavailable: ${role.reason}"
        }

    /** Commands in the demo's pipeline. */
    private const val PIPELINED = 1_000

    /** Keys per EXISTS when counting lost writes. */
    private const val CHUNK = 500
}
