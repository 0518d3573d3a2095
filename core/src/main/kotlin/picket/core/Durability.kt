package picket.core

import java.time.Duration

/**
 * How many replicas must hold a block's writes before the block returns. With [Replicas] or [Majority], the block
 * ends with `WAIT` on its connection, with [Aof] with `WAITAOF`; fewer confirmations than required within the
 * timeout fail the block with a [DurabilityException] (the writes did run on the master).
 *
 * "The master's replicas" are those it has itself, in any state (`connected_slaves` of `INFO replication`), never
 * fewer than were seen before for the same master, and at least one: sentinel/README.md says why each narrower
 * count lost writes.
 */
public sealed class Durability {
    /** Return as soon as the master has executed the writes (Redis's default). */
    public data object None : Durability()

    /** Wait until [count] replicas confirm, or every replica of the master if [count] is null, at most [timeout]. */
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

    /**
     * Wait until a majority of the master's replicas (more than half: 1 of 1, 2 of 2, 2 of 3) confirm, for at most
     * [timeout]. Survives the loss of a minority of the replicas without failing blocks, but a failover may promote a
     * replica that was not among those that confirmed: only [Replicas] with every replica guarantees the write
     * survives any promotion.
     */
    public data class Majority(
        public val timeout: Duration,
    ) : Durability() {
        init {
            if (timeout.isNegative || timeout.isZero) {
                throw InvalidSpecException("durability timeout is $timeout, must be > 0")
            }
        }
    }

    /**
     * Wait until the writes are fsynced to the append-only file of the master (if [local]) and of [replicas]
     * replicas (every replica of the master if null), for at most [timeout]: Redis's `WAITAOF` (7.2 or later).
     * With `appendfsync everysec` this takes up to a second. A master without `WAITAOF`, or without `appendonly`
     * while [local] is asked, fails every block with a [DurabilityException] saying so. Redis counts a replica
     * without `appendonly` as fsynced once it has the writes, so the replica count guarantees files only where the
     * replicas keep them.
     */
    public data class Aof(
        public val local: Boolean,
        public val replicas: Int?,
        public val timeout: Duration,
    ) : Durability() {
        init {
            if (replicas != null && replicas < 0) {
                throw InvalidSpecException("durability replica count is $replicas, must be >= 0")
            }
            if (!local && replicas == 0) {
                throw InvalidSpecException("AOF durability asks nothing: neither the master nor any replica")
            }
            if (timeout.isNegative || timeout.isZero) {
                throw InvalidSpecException("durability timeout is $timeout, must be > 0")
            }
        }
    }

    public companion object {
        /** Every replica of the master must confirm within [timeout]. */
        @JvmStatic
        public fun allReplicas(timeout: Duration): Durability = Replicas(null, timeout)

        /** [count] replicas must confirm within [timeout]. */
        @JvmStatic
        public fun replicas(
            count: Int,
            timeout: Duration,
        ): Durability = Replicas(count, timeout)

        /** The master and every replica must fsync the writes to their append-only files within [timeout]. */
        @JvmStatic
        public fun aof(timeout: Duration): Durability = Aof(true, null, timeout)

        /** The master (if [local]) and [replicas] replicas must fsync the writes within [timeout]. */
        @JvmStatic
        public fun aof(
            local: Boolean,
            replicas: Int,
            timeout: Duration,
        ): Durability = Aof(local, replicas, timeout)

        /** A majority of the master's replicas must confirm within [timeout]. */
        @JvmStatic
        public fun majority(timeout: Duration): Durability = Majority(timeout)
    }
}
