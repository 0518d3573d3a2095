package picket.core

/** Where a block runs: on the master, or on a healthy replica chosen by a [Balancer]. */
public sealed class ReadFrom {
    /** On the current master. */
    public data object Master : ReadFrom()

    /**
     * On a healthy replica — not flagged down or disconnected by Sentinel and with `master-link-status` ok — that
     * [balancer] picks; when none is healthy, on the master if [fallbackToMaster], else a
     * [NoHealthyReplicaException].
     *
     * With [readYourWrites], the block runs on the chosen replica only if that replica has applied the replication
     * stream up to the master's offset after the last block that ran on the master through this Picket; a replica
     * that is behind (or does not answer within 100 ms) is passed over for the master if [fallbackToMaster], else
     * the block fails with [ReplicaBehindException]. Picket never waits for a lagging replica: a read on the master
     * costs one round trip, waiting costs the lag.
     */
    public data class PreferReplica
        @JvmOverloads
        constructor(
            public val balancer: Balancer = Balancers.random,
            public val fallbackToMaster: Boolean = true,
            public val readYourWrites: Boolean = false,
        ) : ReadFrom()
}
