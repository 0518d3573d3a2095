package picket.core

import java.time.Duration

/**
 * How many replicas must hold a block's writes before the block returns. With [Replicas], the block ends with
 * `WAIT` on its connection; fewer confirmations than required within the timeout fail the block with a
 * [DurabilityException] (the writes did run on the master).
 */
public sealed class Durability {
    /** Return as soon as the master has executed the writes (Redis's default). */
    public data object None : Durability()

    /**
     * Wait until [count] replicas confirm, or every replica that Sentinel reports healthy for the master when
     * [count] is null, for at most [timeout].
     */
    public data class Replicas(
        public val count: Int?,
        public val timeout: Duration,
    ) : Durability() {
        init {
            if (count != null && count < 0) throw InvalidSpecException("durability count is $count, must be >= 0")
            if (timeout.isNegative ||
                timeout.isZero
            ) {
                throw InvalidSpecException("durability timeout is $timeout, must be > 0")
            }
        }
    }

    public companion object {
        /** Every replica Sentinel reports healthy must confirm within [timeout]. */
        @JvmStatic
        public fun allReplicas(timeout: Duration): Durability = Replicas(null, timeout)

        /** [count] replicas must confirm within [timeout]. */
        @JvmStatic
        public fun replicas(
            count: Int,
            timeout: Duration,
        ): Durability = Replicas(count, timeout)
    }
}
