package picket.core

/**
 * What a [ConnSpec] points at: a master name that a declared sentinel group follows, or one node addressed
 * directly. Its `toString()` is how messages name it: `group/masterName` or `host:port`.
 *
 * ```kotlin
 * when (val target = spec.target) {
 *     is SpecTarget.Sentinel -> println("${target.masterName} through ${target.group}")
 *     is SpecTarget.Direct -> println("the node at ${target.address}")
 * }
 * ```
 */
public sealed interface SpecTarget {
    /** The master named [masterName] (and its replicas) as the sentinels of the declared group [group] report it. */
    public data class Sentinel(
        public val group: String,
        public val masterName: String,
    ) : SpecTarget {
        override fun toString(): String = "$group/$masterName"
    }

    /** The node at [address], bypassing Sentinel. */
    public data class Direct(
        public val address: Address,
    ) : SpecTarget {
        override fun toString(): String = address.toString()
    }
}
