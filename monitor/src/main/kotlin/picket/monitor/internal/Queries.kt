package picket.monitor.internal

import picket.monitor.InfoEntry
import picket.monitor.InfoMeta
import picket.monitor.InfoQuery
import picket.monitor.InfoResult
import picket.monitor.MonitorException
import picket.monitor.MonitoredNode
import picket.monitor.NodeNotPolledException
import picket.monitor.NodeRegistry
import picket.monitor.NodeState
import picket.monitor.UnknownNodeException
import picket.monitor.UnknownSectionException

/** Answers [InfoQuery]s from the pollers' caches: the seed's servicer. */
internal class Queries(
    private val registry: NodeRegistry,
    private val pollers: Map<String, NodePoller>,
) {
    /** The pollers a query concerns, each with whether it was named; throws for a named node that is unknown. */
    fun targets(query: InfoQuery): List<Target> {
        checkSections(query)
        return if (query.nodes.isEmpty()) {
            registry.nodes().filter { matches(it, query) }.map { Target(it.id, pollers[it.id], named = false) }
        } else {
            query.nodes
                .distinct()
                .map { id ->
                    val poller = pollers[id]
                    if (poller == null && !query.allowPartial) throw UnknownNodeException(id, registry.size)
                    Target(id, poller, named = true)
                }.filter { it.poller == null || matches(it.poller.node, query) }
        }
    }

    fun answer(query: InfoQuery): InfoResult = InfoResult(targets(query).mapNotNull { entry(it, query) })

    class Target(
        val id: String,
        val poller: NodePoller?,
        val named: Boolean,
    )

    private fun entry(
        target: Target,
        query: InfoQuery,
    ): InfoEntry? {
        val poller =
            target.poller ?: return failed(meta(target.id, null), UnknownNodeException(target.id, registry.size))
        val state = poller.state()
        val info = state.info
        if (info == null) {
            val error = NodeNotPolledException(target.id, state.lastError)
            return when {
                query.allowPartial -> failed(meta(target.id, state), error)
                target.named -> throw error
                else -> null
            }
        }
        if (query.maxAge != null && state.infoAge!! > query.maxAge) return null
        return InfoEntry(meta(target.id, state), select(info.sections, query), null)
    }

    private fun failed(
        meta: InfoMeta,
        error: MonitorException,
    ) = InfoEntry(meta, null, error)

    private fun meta(
        id: String,
        state: NodeState?,
    ) = metaOf(id, state)

    private fun matches(
        node: MonitoredNode,
        query: InfoQuery,
    ): Boolean =
        (query.group == null || node.group == query.group) &&
            (query.masterName == null || node.masterName == query.masterName) &&
            (query.role == null || node.role == query.role)

    private fun select(
        sections: Map<String, Map<String, Any>>,
        query: InfoQuery,
    ): Map<String, Any> {
        val wanted = query.sections.map { it.lowercase() }.toSet()
        val selected = LinkedHashMap<String, Any>()
        sections
            .filterKeys { wanted.isEmpty() || it in wanted }
            .values
            .forEach { fields -> fields.filterKeys { keyMatches(it, query) }.let(selected::putAll) }
        return selected
    }

    private fun keyMatches(
        name: String,
        query: InfoQuery,
    ): Boolean =
        query.keys.isEmpty() ||
            if (query.prefixMatching) query.keys.any { name.startsWith(it) } else name in query.keys

    private fun checkSections(query: InfoQuery) {
        if (query.sections.isEmpty()) return
        val known = knownSections()
        query.sections.firstOrNull { it.lowercase() !in known }?.let { throw UnknownSectionException(it, known) }
    }

    /** Redis's sections, and any other a polled node reported (a module's). */
    fun knownSections(): Set<String> =
        STANDARD_SECTIONS +
            pollers.values
                .flatMap {
                    it
                        .state()
                        .info
                        ?.sections
                        ?.keys
                        .orEmpty()
                }.filter { it.isNotEmpty() }

    companion object {
        fun metaOf(state: NodeState): InfoMeta = metaOf(state.id, state)

        fun metaOf(
            id: String,
            state: NodeState?,
        ) = InfoMeta(
            nodeId = id,
            role = state?.node?.role,
            masterName = state?.node?.masterName,
            group = state?.node?.group,
            infoAge = state?.infoAge,
            infoAt = state?.infoAt,
            down = state?.down ?: false,
            lastError = state?.lastError,
            interval = state?.interval,
        )

        /** The sections of `INFO everything` in Redis 7 and of a sentinel's INFO. */
        val STANDARD_SECTIONS =
            setOf(
                "server",
                "clients",
                "memory",
                "persistence",
                "stats",
                "replication",
                "cpu",
                "modules",
                "commandstats",
                "errorstats",
                "latencystats",
                "cluster",
                "keyspace",
                "keysizes",
                "sentinel",
            )
    }
}
