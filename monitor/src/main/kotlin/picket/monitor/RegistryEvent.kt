package picket.monitor

/** A change of a [NodeRegistry], delivered in order to its listeners and flows. */
public sealed class RegistryEvent {
    /** The node concerned, as it is after the change (as it was, for [Removed]). */
    public abstract val node: MonitoredNode

    /**
     * [node] joined the registry; [initial] is true for the nodes a new listener or collector is given first (the
     * registry's content when it subscribed), false for a node added later.
     */
    public data class Added(
        override val node: MonitoredNode,
        public val initial: Boolean = false,
    ) : RegistryEvent()

    /** A node already present was reported with another role, master name or group (a failover, for instance). */
    public data class Updated(
        override val node: MonitoredNode,
        public val previous: MonitoredNode,
    ) : RegistryEvent()

    /** [node] left the registry: no watcher reports it any more, or it was removed by hand. */
    public data class Removed(
        override val node: MonitoredNode,
    ) : RegistryEvent()
}

/** Receives [RegistryEvent]s; see [NodeRegistry.registerListener]. Must be fast and must not throw. */
public fun interface RegistryListener {
    /** Called for each change, in order, on the thread that made it. */
    public fun onChange(event: RegistryEvent)
}
