package picket.pubsub

import picket.sentinel.testing.PlainClient
import picket.sentinel.testing.within
import picket.testkit.RedisNode
import java.util.concurrent.CopyOnWriteArrayList

/** An independent Lettuce client, to look at nodes without going through Picket. */
object Inspect : PlainClient() {
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
}

/** Events of one listener, to await and assert them. */
class Events : PubSubEventListener {
    val all = CopyOnWriteArrayList<PubSubEvent>()

    override fun onEvent(event: PubSubEvent) {
        all += event
    }

    inline fun <reified S : PubSubEvent> ofType(): List<S> = all.filterIsInstance<S>()

    suspend inline fun <reified S : PubSubEvent> await(
        seconds: Int = 30,
        count: Int = 1,
    ): S =
        within(seconds) { ofType<S>().let { check(it.size >= count) { "${it.size} ${S::class.simpleName}" } } }
            .let { ofType<S>()[count - 1] }
}
