package picket.pubsub

import io.lettuce.core.KillArgs
import picket.sentinel.testing.within
import picket.testkit.PlainClient
import picket.testkit.RedisNode
import java.util.concurrent.CopyOnWriteArrayList

// Pub/sub's own queries, on the test kit's shared client (`Inspect.subscribers(…)`).

/** Subscribers of [channel] on [node]. */
fun PlainClient.subscribers(
    node: RedisNode,
    channel: String,
): Long = on(node) { it.pubsubNumsub(channel).getValue(channel) }

/** Pattern subscriptions on [node]. */
fun PlainClient.patterns(node: RedisNode): Long = on(node) { it.pubsubNumpat() }

/** Pub/sub connections (flag `P`) named [name] on [node], as their `CLIENT LIST` fields. */
private fun PlainClient.pubSubClients(
    node: RedisNode,
    name: String,
): List<Map<String, String>> = clients(node).filter { it["name"] == name && 'P' in it["flags"].orEmpty() }

/** Pub/sub connections (flag `P`) named [name] on [node]. */
fun PlainClient.subscribersNamed(
    node: RedisNode,
    name: String,
): Int = pubSubClients(node, name).size

/** Kills the pub/sub connections named [name] on [node]; returns how many. */
fun PlainClient.killSubscribers(
    node: RedisNode,
    name: String,
): Int {
    val ids = pubSubClients(node, name).map { it.getValue("id").toLong() }
    on(node) { redis -> ids.forEach { redis.clientKill(KillArgs.Builder.id(it)) } }
    return ids.size
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
