package picket.monitor

import picket.core.InvalidSpecException
import java.time.Duration
import java.time.Instant

/**
 * A question to [Monitor.query] (the seed's `GetInfos`): the INFO of the named nodes, or of every polled node that
 * passes the filters, narrowed to some fields.
 *
 * ```kotlin
 * InfoQuery(keys = listOf("used_memory", "cmdstat_"), prefixMatching = true, role = Role.MASTER)
 * ```
 *
 * @property nodes node ids (`host:port`); empty for every polled node. A named node that is unknown or not polled
 *   yet fails the query ([UnknownNodeException], [NodeNotPolledException]) unless [allowPartial].
 * @property group only nodes found through this sentinel group.
 * @property masterName only nodes of this master name.
 * @property role only nodes with this role in the registry.
 * @property keys field names to return (empty: all); matched exactly, or as prefixes with [prefixMatching].
 * @property prefixMatching match [keys] as prefixes (`cmdstat_` gives every command's statistics).
 * @property sections only fields of these INFO sections (empty: all); an unknown one is [UnknownSectionException].
 * @property allowPartial a named node that cannot be answered gives an entry carrying the error instead of failing
 *   the whole query; unpolled nodes are listed with that error when no node is named.
 * @property maxAge leave out nodes whose INFO is older (as the seed does); null for any age.
 * @throws InvalidSpecException if [maxAge] is negative or a key, node id or section is blank.
 */
public data class InfoQuery
    // A query: each parameter is a named, defaulted filter (Java uses the Builder).
    @Suppress("LongParameterList")
    @JvmOverloads
    constructor(
        public val nodes: List<String> = emptyList(),
        public val group: String? = null,
        public val masterName: String? = null,
        public val role: Role? = null,
        public val keys: List<String> = emptyList(),
        public val prefixMatching: Boolean = false,
        public val sections: List<String> = emptyList(),
        public val allowPartial: Boolean = false,
        public val maxAge: Duration? = null,
    ) {
        init {
            if (maxAge != null && maxAge.isNegative) throw InvalidSpecException("maxAge is $maxAge, must be >= 0")
            nodes.forEach { if (it.isBlank()) throw InvalidSpecException("a node id is blank") }
            keys.forEach { if (it.isBlank()) throw InvalidSpecException("a key is blank") }
            sections.forEach { if (it.isBlank()) throw InvalidSpecException("a section name is blank") }
        }

        /** Builds an [InfoQuery] for Java. */
        public class Builder {
            private var query = InfoQuery()

            /** Only these nodes. */
            public fun nodes(vararg ids: String): Builder = apply { query = query.copy(nodes = ids.toList()) }

            /** Only nodes of this group. */
            public fun group(group: String?): Builder = apply { query = query.copy(group = group) }

            /** Only nodes of this master name. */
            public fun masterName(name: String?): Builder = apply { query = query.copy(masterName = name) }

            /** Only nodes with this role. */
            public fun role(role: Role?): Builder = apply { query = query.copy(role = role) }

            /** Only these fields, matched exactly. */
            public fun keys(vararg keys: String): Builder =
                apply {
                    query =
                        query.copy(keys = keys.toList(), prefixMatching = false)
                }

            /** Only fields starting with one of these prefixes. */
            public fun prefixes(vararg prefixes: String): Builder =
                apply { query = query.copy(keys = prefixes.toList(), prefixMatching = true) }

            /** Only fields of these sections. */
            public fun sections(vararg sections: String): Builder =
                apply {
                    query =
                        query.copy(sections = sections.toList())
                }

            /** See [InfoQuery.allowPartial]. */
            public fun allowPartial(allow: Boolean): Builder = apply { query = query.copy(allowPartial = allow) }

            /** See [InfoQuery.maxAge]. */
            public fun maxAge(age: Duration?): Builder = apply { query = query.copy(maxAge = age) }

            /** The query. */
            public fun build(): InfoQuery = query
        }

        public companion object {
            /** A [Builder] of the query for every polled node and every field. */
            @JvmStatic
            public fun builder(): Builder = Builder()
        }
    }

/**
 * The answer to an [InfoQuery]: one entry per node, in the order named (or the registry's order).
 */
public data class InfoResult(
    public val entries: List<InfoEntry>,
) {
    /** The entry of node [id], or null. */
    public operator fun get(id: String): InfoEntry? = entries.firstOrNull { it.meta.nodeId == id }
}

/**
 * One node's answer: [meta] always, and either the selected [fields] or, for a partial answer, the [error] that
 * kept them back.
 */
public data class InfoEntry(
    public val meta: InfoMeta,
    /** The selected fields of the node's latest good INFO (typed as in [NodeInfo]); null when [error] is set. */
    public val fields: Map<String, Any>?,
    /** Why this node has no fields (unknown, not polled yet), or null. */
    public val error: MonitorException?,
)

/**
 * What is always known of an entry: the node id and the age of its INFO.
 *
 * @property nodeId `host:port`.
 * @property role the registry's role, or null for an unknown node.
 * @property infoAge the age of the INFO the fields come from, or null if there is none.
 * @property infoAt when it was received, or null.
 * @property down whether the node is declared down (its fields are then its last good INFO).
 * @property lastError the last failed poll's error, or null.
 * @property interval its polling interval, or null for an unknown node.
 */
public data class InfoMeta(
    public val nodeId: String,
    public val role: Role?,
    public val masterName: String?,
    public val group: String?,
    public val infoAge: Duration?,
    public val infoAt: Instant?,
    public val down: Boolean,
    public val lastError: String?,
    public val interval: Duration?,
)
