package picket.monitor

import picket.monitor.internal.InfoParser

/**
 * One `INFO` reply, parsed: sections (lower case, as `INFO` takes them: `server`, `memory`, `keyspace`,
 * `commandstats`, …) of fields in the server's order. Values are typed by their form: [Long] for integers (64-bit,
 * exact), [Double] for decimals, a [Map] of typed values for `key=value,…` lists (keyspace lines such as
 * `db0:keys=1,expires=0,avg_ttl=0`, `cmdstat_*`, `errorstat_*`, `slave0:ip=…,port=…`), and [String] for
 * everything else. Fields known to be text (ids, hashes, versions) and numbers with leading zeros stay strings, and no
 * field is dropped: one the parser does not recognise is kept as its text.
 *
 * ```kotlin
 * val info = NodeInfo.parse(reply)
 * val memory = info.long("used_memory")
 * val gets = (info["cmdstat_get"] as Map<*, *>)["calls"]
 * ```
 */
public class NodeInfo(
    /** Each section's fields, in the server's order. */
    public val sections: Map<String, Map<String, Any>>,
) {
    /** Every field of every section, by name (names are unique across sections in Redis's INFO). */
    public val fields: Map<String, Any> =
        sections.values.fold(LinkedHashMap()) { all, fields ->
            all.apply {
                putAll(fields)
            }
        }

    /** The field [name], or null. */
    public operator fun get(name: String): Any? = fields[name]

    /** The integer field [name], or null if absent or not an integer. */
    public fun long(name: String): Long? = fields[name] as? Long

    /** The numeric field [name] as a double, or null. */
    public fun double(name: String): Double? = (fields[name] as? Number)?.toDouble()

    /** The field [name] as text (any type), or null. */
    public fun string(name: String): String? = fields[name]?.toString()

    /** The role the node states (`master`, `slave`, `sentinel`): `role`, or `redis_mode` for sentinels. */
    public val role: String?
        get() = if (fields["redis_mode"] == "sentinel") "sentinel" else fields["role"] as? String

    /** `instantaneous_ops_per_sec`, or null. */
    public val opsPerSecond: Long? get() = long("instantaneous_ops_per_sec")

    override fun toString(): String = "NodeInfo(${sections.map { (name, fields) -> "$name: ${fields.size}" }})"

    public companion object {
        /** Parses an `INFO` reply; lines that are not `name:value` outside a section header are ignored. */
        @JvmStatic
        public fun parse(text: String): NodeInfo = NodeInfo(InfoParser.parse(text))
    }
}
