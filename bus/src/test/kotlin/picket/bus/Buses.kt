package picket.bus

import io.lettuce.core.api.sync.RedisCommands
import picket.core.ConnSpec
import picket.core.Picket
import picket.sentinel.testing.sentinelGroup
import picket.testkit.PlainClient
import picket.testkit.Topology
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The Pickets and buses of one spec on [topology]: each bus on a Picket of its own unless told, as separate
 * processes would have them, with [spec] and [settings] unless told; [close] closes them all.
 */
class Buses(
    private val topology: Topology,
    masterName: String,
) : AutoCloseable {
    private val pickets = CopyOnWriteArrayList<Picket>()
    private val opened = CopyOnWriteArrayList<Bus>()

    /** The master of group `main`, with a 3 s command timeout. */
    val spec = ConnSpec(sentinelGroup = "main", masterName = masterName, commandTimeout = Duration.ofSeconds(3))

    /** A 1.5 s lease and a 10 s call timeout. */
    val settings = BusSettings(lease = Duration.ofMillis(1_500), defaultTimeout = Duration.ofSeconds(10))

    /** A Picket of its own: a service or caller as a separate process would have it. */
    fun newPicket(): Picket =
        Picket().also {
            it.setSentinelGroups("main" to topology.sentinelGroup())
            pickets += it
        }

    fun bus(
        name: String,
        prefix: String = "",
        on: Picket = newPicket(),
        connSpec: ConnSpec = spec,
        busSettings: BusSettings = settings,
    ): Bus = Bus(on, name, connSpec, prefix, busSettings).also { opened += it }

    override fun close() {
        opened.forEach { runCatching { it.close() } }
        pickets.forEach { runCatching { it.close() } }
    }
}

/** A plain client with Lettuce's defaults (as `RedisClient.create("redis://host:port")`), outside Picket. */
internal val plain = PlainClient.lettuceDefaults()

/** Runs [block] on the current master through a plain client (outside Picket). */
internal fun <T> onMaster(
    topology: Topology,
    masterName: String,
    block: RedisCommands<String, String>.() -> T,
): T = plain.on(topology.currentMaster(masterName)) { it.block() }
