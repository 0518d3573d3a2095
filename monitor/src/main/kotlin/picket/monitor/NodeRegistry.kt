package picket.monitor

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

private val log = KotlinLogging.logger {}

/**
 * The live nodes (the seed's "shard publisher"): what the watchers report, plus what was added by hand, each once by
 * its id (`host:port`), with add, update and remove notifications.
 *
 * Semantics, decided where the seed leaves them loose:
 * - **Several sources.** Each watcher reports through a sink of its own; a node is present while at least one source
 *   (a watcher, or [add] by hand) reports it. Sources are ranked: by hand first, then the watchers in the order
 *   given to the [Monitor]. A node carries the description of the highest-ranked source whose report gives its role
 *   (a list of addresses of unknown role does not hide what the sentinels say), or else of the highest-ranked
 *   report. So two watchers that disagree on a role do not make the description alternate: the first one's holds
 *   until it stops reporting the node, and the other's report is kept for then. A source that stops reporting a
 *   node (a watcher's [NodeSink.replaceAll] without it) removes only its own claim.
 * - **Adding an id that exists** changes nothing but the description: same description, no event and `false`;
 *   another role, master name or group, an [RegistryEvent.Updated] and `false`. The node keeps its polling state
 *   (last INFO, interval).
 * - **Removing an unknown id** is not an error: `false`, no event. [remove] drops every claim on the node: a watcher
 *   that still sees it adds it back on its next report.
 * - **Clearing** removes every node (one [RegistryEvent.Removed] each) and every claim.
 * - **A late subscriber** gets the current nodes first, as [RegistryEvent.Added] with `initial = true`, then every
 *   change after them, with nothing missed or repeated in between.
 *
 * Thread-safe. Listeners run on the thread that made the change, in order, while the registry is locked: they must
 * be fast and must not throw (one that throws is logged and does not stop the others).
 */
public class NodeRegistry {
    private val lock = Any()
    private val nodes = LinkedHashMap<String, MonitoredNode>()

    /** Per node id, each source's latest description of it. */
    private val claims = HashMap<String, HashMap<Source, MonitoredNode>>()
    private val listeners = ArrayList<RegistryListener>()

    /**
     * Adds [node] by hand, or changes the description of the node with its id. Returns true if it was not present.
     */
    public fun add(node: MonitoredNode): Boolean = claim(MANUAL, node)

    /** Removes the node [id] and every claim on it; false (no event) if it is not present. */
    public fun remove(id: String): Boolean =
        synchronized(lock) {
            claims.remove(id)
            val node = nodes.remove(id) ?: return false
            emit(RegistryEvent.Removed(node))
            true
        }

    /** Removes every node; returns how many there were. */
    public fun clear(): Int =
        synchronized(lock) {
            val removed = nodes.values.toList()
            nodes.clear()
            claims.clear()
            removed.forEach { emit(RegistryEvent.Removed(it)) }
            removed.size
        }

    /** The present nodes, in the order they were added. */
    public fun nodes(): List<MonitoredNode> = synchronized(lock) { nodes.values.toList() }

    /** The node [id], or null. */
    public fun node(id: String): MonitoredNode? = synchronized(lock) { nodes[id] }

    /** How many nodes are present. */
    public val size: Int get() = synchronized(lock) { nodes.size }

    /**
     * Registers [listener]: it gets every present node first ([RegistryEvent.Added] with `initial = true`), then every
     * change. Closing the returned handle unregisters it.
     */
    public fun registerListener(listener: RegistryListener): AutoCloseable =
        synchronized(lock) {
            nodes.values.forEach { deliver(listener, RegistryEvent.Added(it, initial = true)) }
            listeners += listener
            AutoCloseable { synchronized(lock) { listeners.remove(listener) } }
        }

    /**
     * The present nodes, then every change, as a cold flow: each collection registers a listener (see
     * [registerListener]); events wait in an unbounded buffer for a slow collector. Java: [registerListener].
     */
    @get:JvmSynthetic
    public val changes: Flow<RegistryEvent>
        get() =
            callbackFlow {
                val handle = registerListener { trySend(it) }
                awaitClose { handle.close() }
            }.buffer(Channel.UNLIMITED)

    /**
     * A sink through which one source (a watcher) reports its nodes; its claims are its own. Sources of a lower
     * [rank] win over higher ones when their descriptions differ; by hand ranks above every sink.
     */
    internal fun sink(rank: Int): NodeSink {
        require(rank >= 0) { "rank is $rank, must be >= 0" }
        val source = Source(rank)
        return object : NodeSink {
            override fun add(node: MonitoredNode) {
                claim(source, node)
            }

            override fun remove(id: String) {
                unclaim(source, id)
            }

            override fun replaceAll(nodes: Collection<MonitoredNode>) {
                replace(source, nodes)
            }
        }
    }

    private fun claim(
        source: Source,
        node: MonitoredNode,
    ): Boolean =
        synchronized(lock) {
            val byId = claims.getOrPut(node.id) { HashMap() }
            byId[source] = node
            put(describe(byId))
        }

    private fun unclaim(
        source: Source,
        id: String,
    ) {
        synchronized(lock) {
            val byId = claims[id] ?: return
            if (byId.remove(source) == null) return
            if (byId.isEmpty()) {
                claims.remove(id)
                nodes.remove(id)?.let { emit(RegistryEvent.Removed(it)) }
            } else {
                put(describe(byId))
            }
        }
    }

    private fun replace(
        source: Source,
        reported: Collection<MonitoredNode>,
    ) {
        synchronized(lock) {
            val ids = reported.mapTo(HashSet()) { it.id }
            claims
                .filter { (id, byId) -> id !in ids && source in byId }
                .keys
                .toList()
                .forEach { unclaim(source, it) }
            reported.forEach { claim(source, it) }
        }
    }

    /** The description of a node from its claims: the highest-ranked that knows the role, else the highest-ranked. */
    private fun describe(byId: Map<Source, MonitoredNode>): MonitoredNode {
        val ranked = byId.entries.sortedBy { it.key.rank }.map { it.value }
        return ranked.firstOrNull { it.role != Role.UNKNOWN } ?: ranked.first()
    }

    /** Makes [node] the description of its id; true if the id was not present. Under [lock]. */
    private fun put(node: MonitoredNode): Boolean {
        val previous = nodes.put(node.id, node)
        when {
            previous == null -> emit(RegistryEvent.Added(node))
            previous != node -> emit(RegistryEvent.Updated(node, previous))
        }
        return previous == null
    }

    private fun emit(event: RegistryEvent) {
        listeners.toList().forEach { deliver(it, event) }
    }

    private fun deliver(
        listener: RegistryListener,
        event: RegistryEvent,
    ) {
        try {
            listener.onChange(event)
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            log.warn(e) { "a registry listener threw on $event" }
        }
    }

    /** Who reports a node: by hand, or a watcher's sink; compared by identity. */
    private class Source(
        val rank: Int,
    )

    private companion object {
        /** The source of nodes added by hand: above every watcher. */
        val MANUAL = Source(-1)
    }
}
