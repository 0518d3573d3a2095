package picket.pubsub

import io.kotest.assertions.nondeterministic.eventually
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import picket.core.Address
import picket.sentinel.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

/** The topology's sentinels as a Picket group. */
fun Topology.sentinelGroup(): SentinelGroup = SentinelGroup(sentinels.map { Address(it.host, it.port) })

val RedisNode.asAddress: Address get() = Address(host, port)

/** An independent Lettuce client, to look at nodes without going through Picket. */
object Inspect {
    private val client: RedisClient by lazy {
        RedisClient.create().apply {
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(false)
                    .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                    .build()
        }
    }

    fun <T> on(
        node: RedisNode,
        block: (RedisCommands<String, String>) -> T,
    ): T {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(Duration.ofSeconds(2))
                .build()
        return client.connect(uri).use { block(it.sync()) }
    }

    /** Subscribers of [channel] on [node]. */
    fun subscribers(
        node: RedisNode,
        channel: String,
    ): Long = on(node) { it.pubsubNumsub(channel).getValue(channel) }

    /** Pattern subscriptions on [node]. */
    fun patterns(node: RedisNode): Long = on(node) { it.pubsubNumpat() }

    /** Pub/sub connections (flag `P`) named [name] on [node]. */
    fun subscribersNamed(
        node: RedisNode,
        name: String,
    ): Int =
        on(node) { it.clientList() }.lines().count { line ->
            line.split(" ").let { "name=$name" in it && it.any { f -> f.startsWith("flags=") && 'P' in f } }
        }

    /** Kills the pub/sub connections named [name] on [node]; returns how many. */
    fun killSubscribers(
        node: RedisNode,
        name: String,
    ): Int =
        on(node) { redis ->
            val ids =
                redis
                    .clientList()
                    .lines()
                    .map { it.split(" ") }
                    .filter { fields ->
                        "name=$name" in fields && fields.any { it.startsWith("flags=") && 'P' in it }
                    }.map { fields -> fields.first { it.startsWith("id=") }.removePrefix("id=").toLong() }
            ids.forEach {
                redis.clientKill(
                    io.lettuce.core.KillArgs.Builder
                        .id(it),
                )
            }
            ids.size
        }

    /** Connections named [name] on [node]. */
    fun clientsNamed(
        node: RedisNode,
        name: String,
    ): Int = on(node) { it.clientList() }.lines().count { line -> line.split(" ").contains("name=$name") }
}

/** Signals of one listener, to await and assert them. */
class Signals : SignalListener {
    val all = CopyOnWriteArrayList<PubSubSignal>()

    override fun onSignal(signal: PubSubSignal) {
        all += signal
    }

    inline fun <reified S : PubSubSignal> ofType(): List<S> = all.filterIsInstance<S>()

    suspend inline fun <reified S : PubSubSignal> await(
        seconds: Int = 30,
        count: Int = 1,
    ): S =
        within(seconds) { ofType<S>().let { check(it.size >= count) { "${it.size} ${S::class.simpleName}" } } }
            .let { ofType<S>()[count - 1] }
}

/** Waits until [block] passes, for at most [seconds]. */
suspend fun <T> within(
    seconds: Int,
    block: suspend () -> T,
): T = eventually(seconds.seconds) { block() }
