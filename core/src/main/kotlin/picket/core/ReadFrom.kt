package picket.core

/** Where a block runs: on the master, or on a healthy replica chosen by a [Balancer]. */
public sealed class ReadFrom {
    /** On the current master. */
    public data object Master : ReadFrom()

    /**
     * On a healthy replica — not flagged down or disconnected by Sentinel and with `master-link-status` ok — that
     * [balancer] picks; when none is healthy, on the master if [fallbackToMaster], else a
     * [NoHealthyReplicaException].
     */
    public data class PreferReplica(
        public val balancer: Balancer = Balancers.random,
        public val fallbackToMaster: Boolean = true,
    ) : ReadFrom()
}
