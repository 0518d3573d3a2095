package picket.sentinel

import io.kotest.assertions.fail
import io.kotest.assertions.nondeterministic.eventually
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.sentinel.api.sync.RedisSentinelCommands
import picket.core.Address
import picket.core.PicketEvent
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration
import java.util.Collections
import java.util.IdentityHashMap
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

/** The topology's sentinels as a Picket group. */
fun Topology.sentinelGroup(password: String? = config.sentinelPassword): SentinelGroup =
    SentinelGroup(sentinels.map { Address(it.host, it.port) }, password = password)

val RedisNode.asAddress: Address get() = Address(host, port)

/** An independent Lettuce client, to look at nodes without going through Picket. */
object Inspect {
    private val client: RedisClient by lazy {
        RedisClient.create().apply {
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(
                        false,
                    ).timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                    .build()
        }
    }

    fun <T> on(
        node: RedisNode,
        password: String? = null,
        block: (RedisCommands<String, String>) -> T,
    ): T = client.connect(uri(node, password)).use { block(it.sync()) }

    /** Runs [block] on a sentinel connection to [node]. */
    fun <T> onSentinel(
        node: RedisNode,
        password: String? = null,
        block: (RedisSentinelCommands<String, String>) -> T,
    ): T = client.connectSentinel(uri(node, password)).use { block(it.sync()) }

    private fun uri(
        node: RedisNode,
        password: String?,
    ): RedisURI {
        val uri =
            RedisURI
                .builder()
                .withHost(node.host)
                .withPort(node.port)
                .withTimeout(Duration.ofSeconds(2))
        password?.let { uri.withPassword(it.toCharArray()) }
        return uri.build()
    }

    /** Connections named [name] on [node] (CLIENT LIST). */
    fun clientsNamed(
        node: RedisNode,
        name: String,
        password: String? = null,
    ): Int = on(node, password) { it.clientList() }.lines().count { line -> line.split(" ").contains("name=$name") }
}

/** Collects events of one Picket instance, to await and assert them. */
class EventLog(
    picket: Picket,
) : AutoCloseable {
    private val all = CopyOnWriteArrayList<PicketEvent>()
    private val taken: MutableSet<PicketEvent> = Collections.newSetFromMap(IdentityHashMap())
    private val handle = picket.registerListener { all += it }

    val events: List<PicketEvent> get() = all.toList()

    inline fun <reified E : PicketEvent> ofType(): List<E> = events.filterIsInstance<E>()

    /**
     * Waits for the first event of type [E] matching [predicate] that no earlier call returned; events that do not
     * match stay available to other calls.
     */
    suspend inline fun <reified E : PicketEvent> await(
        seconds: Int = 30,
        crossinline predicate: (E) -> Boolean = { true },
    ): E = within(seconds) { take { it is E && predicate(it) } as E }

    fun take(matches: (PicketEvent) -> Boolean): PicketEvent =
        synchronized(taken) {
            all.firstOrNull { it !in taken && matches(it) }?.also { taken += it }
                ?: fail("no such event yet among ${all.size} events")
        }

    fun clear() =
        synchronized(taken) {
            all.clear()
            taken.clear()
        }

    override fun close() = handle.close()
}

/** Waits until [block] passes, for at most [seconds]. */
suspend fun <T> within(
    seconds: Int,
    block: suspend () -> T,
): T = eventually(seconds.seconds) { block() }
