package picket.testkit

/**
 * What a node says it is right now, from its `ROLE` reply; [Unavailable] when it is not running, paused, or does
 * not answer in time.
 */
public sealed class NodeRole {
    /** A master, with the replicas that are connected to it. */
    public data class Master(
        public val replicaAddresses: List<String>,
    ) : NodeRole()

    /**
     * A replica of the master at [masterAddress] (`host:port`); [linkUp] when its replication link is connected
     * (`master_link_status:up`).
     */
    public data class Replica(
        public val masterAddress: String,
        public val linkUp: Boolean,
    ) : NodeRole()

    /** A sentinel, with the master names it monitors. */
    public data class Sentinel(
        public val masterNames: List<String>,
    ) : NodeRole()

    /** No role could be read, for [reason]. */
    public data class Unavailable(
        public val reason: String,
    ) : NodeRole()
}
