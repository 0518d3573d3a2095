package picket.core

/**
 * Picks the replica a block runs on among the healthy candidates (never empty, in Sentinel's order). It must
 * return one of [candidates]; anything else, or an exception, fails the block with a [BalancerException].
 *
 * ```kotlin
 * val nearest = Balancer { candidates -> candidates.firstOrNull { it.host.startsWith("10.1.") } ?: candidates.first() }
 * ```
 *
 * See [Balancers] for the built-in ones.
 */
public fun interface Balancer {
    /** The replica to use, one of [candidates]. */
    public fun pick(candidates: List<Address>): Address
}
