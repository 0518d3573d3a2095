package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisFuture
import io.lettuce.core.RedisURI
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.pubsub.RedisPubSubAdapter
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubEvent
import picket.pubsub.PubSubListener
import picket.pubsub.Topic
import picket.pubsub.listen
import picket.pubsub.publish
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration
import java.time.Instant
import java.util.concurrent.atomic.AtomicInteger

/**
 * One measurement of the pub/sub throughput benchmark: [messages] published to [client]'s subscriber in [round],
 * timed from the first publish to the last message received.
 */
class PubSubRound(
    val round: Int,
    val client: String,
    val messages: Int,
    val messagesPerSecond: Double,
)

/** One manual failover under a Picket listener: how long after the switch it was subscribed on the new master. */
class Resubscribe(
    val index: Int,
    val oldMaster: String,
    val newMaster: String,
    /** From `SENTINEL FAILOVER` sent to the listener's Picket instance seeing `SwitchMaster`. */
    val failoverToSwitchMs: Double,
    /** From that `SwitchMaster` event to the listener subscribed again on the new master (`Resumed.resumedAt`). */
    val switchToResumedMs: Double,
    /** `Resumed.gap`: the window in which messages may be missing, as the listener reported it. */
    val gapMs: Double,
    /** Why the listener left the old master (its `Disconnected` event), or null if it did not say. */
    val reason: String?,
)

/** Everything the pub/sub benchmark measured, for [PubSubReport] and the smoke spec. */
class PubSubResult(
    /** The master of the throughput rounds. */
    val node: String,
    /** Messages per throughput measurement. */
    val messages: Int,
    val rounds: List<PubSubRound>,
    val resubscribes: List<Resubscribe>,
)

/**
 * A Picket listener (`picket.listen`, default [ListenerOptions]: a 1,024-message buffer that stops reading the
 * socket when full, the handler on the listener's own coroutine) against plain Lettuce pub/sub (a
 * `RedisPubSubAdapter` counting on the I/O thread), each subscribed to a channel of its own on the same master and
 * fed by the same publisher: one plain Lettuce connection publishing [Settings.pubsubMessages] messages of
 * [PAYLOAD], [IN_FLIGHT] at most awaiting their reply. Rounds alternate which client goes first, as in
 * [ThroughputBench]. Then [Settings.pubsubFailovers] manual failovers under a second listener, each timed from its
 * Picket instance's `SwitchMaster` to its `Resumed` event.
 */
class PubSubBench(
    context: BenchContext,
) : TopologyBench(context) {
    private val messages = settings.pubsubMessages
    private val spec = ConnSpec(sentinelGroup = "bench", masterName = masterName)

    /** One measured subscriber: its channel, and its count of what arrived there. */
    private class Client(
        val name: String,
        val channel: String,
        val counter: Counter,
    )

    suspend fun run(): PubSubResult {
        val master = blocking { topology.awaitMaster(masterName) }
        val rounds = throughput(master)
        val resubscribes = if (settings.pubsubFailovers > 0) resubscribes() else emptyList()
        return PubSubResult(master.address, messages, rounds, resubscribes)
    }

    /** A warm-up pass (each client once, uncounted), then [Settings.pubsubRounds] rounds. */
    private suspend fun throughput(master: RedisNode): List<PubSubRound> {
        val picket = Picket()
        // Each its own client, event loops included, as Picket has its own: the subscriber does not share the
        // publisher's I/O threads.
        val subscriberClient = RedisClient.create()
        val publisherClient = RedisClient.create()
        var listener: PubSubListener? = null
        var subscriber: StatefulRedisPubSubConnection<String, String>? = null
        try {
            picket.setSentinelGroups("bench" to group())
            val picketClient = Client(Report.PICKET_PUBSUB, PICKET_CHANNEL, Counter())
            val lettuceClient = Client(Report.LETTUCE_PUBSUB, LETTUCE_CHANNEL, Counter())
            listener = picket.listen(spec, mapOf(Topic.channel(PICKET_CHANNEL) to { _ -> picketClient.counter.add() }))
            check(listener.awaitConnected(CONNECT_TIMEOUT)) { "the Picket listener did not connect" }
            subscriber = subscriberClient.connectPubSub(StringCodec.UTF8, uri(master))
            subscriber.addListener(
                object : RedisPubSubAdapter<String, String>() {
                    override fun message(
                        channel: String,
                        message: String,
                    ) = lettuceClient.counter.add()
                },
            )
            subscriber.async().subscribe(LETTUCE_CHANNEL).await()
            val publisher = publisherClient.connectTo(master)
            val clients = listOf(picketClient, lettuceClient)
            clients.forEach { measure(publisher, it) }
            progress("pub/sub warm-up done: ${clients.joinToString { it.name }}, $messages messages each")
            val rounds =
                (1..settings.pubsubRounds).flatMap { round ->
                    (if (round % 2 == 1) clients else clients.reversed()).map { client ->
                        val perSecond = measure(publisher, client)
                        progress("pub/sub round $round: ${client.name} ${perSecond.toLong()} messages/s")
                        PubSubRound(round, client.name, messages, perSecond)
                    }
                }
            publisher.close()
            return rounds
        } finally {
            listener?.close()
            subscriber?.close()
            picket.close()
            subscriberClient.shutdown()
            publisherClient.shutdown()
        }
    }

    /**
     * Publishes [messages] on [client]'s channel, at most [IN_FLIGHT] awaiting their reply, and returns messages per
     * second from the first publish to the last message received. Every publish must reach exactly one subscriber,
     * and every message must arrive within [DELIVERY_TIMEOUT] of the last reply: a figure with messages missing
     * would not be a throughput.
     */
    private suspend fun measure(
        publisher: StatefulRedisConnection<String, String>,
        client: Client,
    ): Double =
        withContext(Dispatchers.Default) {
            val done = client.counter.expect(messages)
            val async = publisher.async()
            val pending = ArrayList<RedisFuture<Long>>(IN_FLIGHT)
            val start = System.nanoTime()
            for (i in 1..messages) {
                pending += async.publish(client.channel, PAYLOAD)
                if (pending.size == IN_FLIGHT || i == messages) {
                    pending.forEach { reply ->
                        val receivers = reply.await()
                        check(receivers == 1L) { "${client.name}: a PUBLISH reached $receivers subscribers, not 1" }
                    }
                    pending.clear()
                }
            }
            val end =
                withTimeoutOrNull(DELIVERY_TIMEOUT.toMillis()) { done.await() }
                    ?: error(
                        "${client.name}: ${client.counter.received} of $messages messages received within " +
                            "${DELIVERY_TIMEOUT.seconds} s of the last PUBLISH reply",
                    )
            messages * NANOS_PER_SECOND / (end - start)
        }

    /** [Settings.pubsubFailovers] manual failovers under one listener, on an instance of its own. */
    private suspend fun resubscribes(): List<Resubscribe> {
        val picket = Picket()
        try {
            picket.setSentinelGroups("bench" to group())
            return Watched(picket, spec, masterName).use { watched ->
                check(watched.listener.awaitConnected(CONNECT_TIMEOUT)) { "the Picket listener did not connect" }
                // The sentinels may still react to an earlier failover: start on quiet, as the failover runs do.
                events.awaitQuiet(settings.quiet, settings.maxQuiet)
                (1..settings.pubsubFailovers).map { index ->
                    failover(index, watched, last = index == settings.pubsubFailovers).also { progress(describe(it)) }
                }
            }
        } finally {
            picket.close()
        }
    }

    /**
     * One manual failover: `SENTINEL FAILOVER`, the first `SwitchMaster` away from the old master, the listener's
     * `Resumed` on the new one; then one message published through Picket must reach it (resubscribed means
     * delivering), and the topology must settle (and, unless [last], the sentinels fall quiet) before the next.
     */
    private suspend fun failover(
        index: Int,
        watched: Watched,
        last: Boolean,
    ): Resubscribe {
        val old = blocking { topology.awaitMaster(masterName) }
        check(watched.listener.node?.toString() == old.address) {
            "the listener is on ${watched.listener.node}, not on the master $old"
        }
        watched.drain()
        val sentAt = Instant.now()
        blocking { topology.failover(masterName) }
        val switch = awaitSwitch(watched, old)
        val (resumed, reason) = awaitResumed(watched, switch.event.newAddress)
        val probe = "after failover $index"
        val receivers = watched.picket.publish(spec, FAILOVER_CHANNEL, probe)
        check(receivers == 1L) { "after failover $index a PUBLISH reached $receivers subscribers, not 1" }
        val received = withTimeoutOrNull(DELIVERY_TIMEOUT.toMillis()) { watched.received.receive() }
        check(received == probe) { "after failover $index the listener received '$received', not '$probe'" }
        val master = blocking { topology.awaitMaster(masterName, notEqualTo = old) }
        if (!last) events.awaitQuiet(settings.quiet, settings.maxQuiet)
        return Resubscribe(
            index = index,
            oldMaster = old.name,
            newMaster = master.name,
            failoverToSwitchMs = millis(Duration.between(sentAt, switch.at)),
            switchToResumedMs = millis(Duration.between(switch.at, resumed.resumedAt)),
            gapMs = millis(resumed.gap),
            reason = reason,
        )
    }

    /** The first `SwitchMaster` away from [old] the listener's instance saw; fails after [SWITCH_TIMEOUT]. */
    private suspend fun awaitSwitch(
        watched: Watched,
        old: RedisNode,
    ): Seen =
        withTimeoutOrNull(SWITCH_TIMEOUT.toMillis()) {
            var seen = watched.switches.receive()
            while (seen.event.newAddress.toString() == old.address) seen = watched.switches.receive()
            seen
        } ?: error("no SwitchMaster away from $old within ${SWITCH_TIMEOUT.seconds} s of SENTINEL FAILOVER")

    /**
     * The listener's first `Resumed` on [address], and the reason of the first `Disconnected` before it; fails after
     * [RESUME_TIMEOUT].
     */
    private suspend fun awaitResumed(
        watched: Watched,
        address: Address,
    ): Pair<PubSubEvent.Resumed, String?> {
        var reason: String? = null
        val seen = mutableListOf<String>()
        val resumed =
            withTimeoutOrNull(RESUME_TIMEOUT.toMillis()) {
                var found: PubSubEvent.Resumed? = null
                while (found == null) {
                    val event = watched.events.receive()
                    seen += event::class.simpleName.orEmpty()
                    if (event is PubSubEvent.Disconnected && reason == null) reason = event.reason
                    if (event is PubSubEvent.Resumed && event.address == address) found = event
                }
                found
            } ?: error("the listener did not resume on $address within ${RESUME_TIMEOUT.seconds} s; events: $seen")
        return resumed to reason
    }

    private fun group(): SentinelGroup = SentinelGroup(topology.sentinels.map { Address(it.host, it.port) })

    private fun describe(r: Resubscribe): String =
        "pub/sub failover #${r.index}: ${r.oldMaster} -> ${r.newMaster}, SwitchMaster " +
            "${r.failoverToSwitchMs.toLong()} ms after SENTINEL FAILOVER, resubscribed ${fmt(r.switchToResumedMs)} " +
            "ms after it, gap ${fmt(r.gapMs)} ms (${r.reason ?: "no reason given"})"

    /** A `SwitchMaster` event and when the listener's instance delivered it to its listeners. */
    private class Seen(
        val at: Instant,
        val event: PicketEvent.SwitchMaster,
    )

    /**
     * A listener on [FAILOVER_CHANNEL] of [picket], with that instance's `SwitchMaster` events and the listener's
     * events and messages, as they come.
     */
    private class Watched(
        val picket: Picket,
        spec: ConnSpec,
        masterName: String,
    ) : AutoCloseable {
        val switches = Channel<Seen>(Channel.UNLIMITED)
        val events = Channel<PubSubEvent>(Channel.UNLIMITED)
        val received = Channel<String>(Channel.UNLIMITED)

        // Registered before the listener registers its own: the event is timed before it wakes the listener.
        private val handle =
            picket.registerListener { event ->
                if (event is PicketEvent.SwitchMaster && event.masterName == masterName) {
                    switches.trySend(Seen(Instant.now(), event))
                }
            }

        val listener: PubSubListener =
            picket.listen(
                spec,
                mapOf(Topic.channel(FAILOVER_CHANNEL) to { message -> received.send(message.payload) }),
                ListenerOptions(onEvent = { event -> events.trySend(event) }),
            )

        /** Forgets what came before a run: it belongs to the previous one. */
        fun drain() {
            listOf(switches, events, received).forEach { channel ->
                while (channel.tryReceive().isSuccess) continue
            }
        }

        override fun close() {
            listener.close()
            handle.close()
        }
    }

    companion object {
        /** The payload of every message: 16 bytes, as the values of the throughput and pipeline benchmarks. */
        const val PAYLOAD = "0123456789abcdef"

        /** PUBLISH replies awaited together: the publisher never has more in flight. */
        const val IN_FLIGHT = 1_000

        /** Each subscriber its own channel, so that every message reaches exactly the one measured. */
        private const val PICKET_CHANNEL = "pubsub:picket"
        private const val LETTUCE_CHANNEL = "pubsub:lettuce"
        private const val FAILOVER_CHANNEL = "pubsub:failover"

        private val CONNECT_TIMEOUT: Duration = Duration.ofSeconds(10)
        private val DELIVERY_TIMEOUT: Duration = Duration.ofSeconds(30)
        private val SWITCH_TIMEOUT: Duration = Duration.ofSeconds(60)
        private val RESUME_TIMEOUT: Duration = Duration.ofSeconds(30)
        private const val NANOS_PER_SECOND = 1e9

        private fun uri(node: RedisNode): RedisURI =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .build()
    }
}

/** Counts one subscriber's messages and tells, with [System.nanoTime], when the expected number has arrived. */
private class Counter {
    private val count = AtomicInteger()

    @Volatile
    private var expected = 0

    @Volatile
    private var done = CompletableDeferred<Long>()

    /** Messages received since the last [expect]. */
    val received: Int get() = count.get()

    /** Counts from zero, with no message in flight; the result completes when [messages] have arrived. */
    fun expect(messages: Int): CompletableDeferred<Long> {
        val next = CompletableDeferred<Long>()
        done = next
        expected = messages
        count.set(0)
        return next
    }

    /** One message, on the subscriber's thread. */
    fun add() {
        if (count.incrementAndGet() == expected) done.complete(System.nanoTime())
    }
}

private fun millis(duration: Duration): Double = millis(duration.toNanos())
