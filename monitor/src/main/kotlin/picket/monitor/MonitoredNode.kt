package picket.monitor

import picket.core.Address

/** What a node is, as the watcher that reported it sees it (for [SentinelNodeWatcher]: as the sentinels see it). */
public enum class Role {
    MASTER,
    REPLICA,
    SENTINEL,

    /** A node of a static list or the user's own watcher whose role was not given. */
    UNKNOWN,
}

/**
 * A node the monitor polls: its address, whose `host:port` is its [id], and what a watcher says about it.
 *
 * ```kotlin
 * val node = MonitoredNode(Address("10.0.0.5", 6379), Role.REPLICA, masterName = "orders", group = "main")
 * check(node.id == "10.0.0.5:6379")
 * ```
 *
 * @property address where it listens, as Sentinel announces it.
 * @property role master, replica or sentinel, as the reporting watcher sees it.
 * @property masterName the master name whose group the node belongs to (null for sentinels and unknown nodes).
 * @property group the sentinel group through which it was found, or null.
 */
public data class MonitoredNode
    @JvmOverloads
    constructor(
        public val address: Address,
        public val role: Role = Role.UNKNOWN,
        public val masterName: String? = null,
        public val group: String? = null,
    ) {
        /** `host:port`: the node's identity in the registry and in queries. */
        public val id: String get() = address.toString()

        public companion object {
            /**
             * A node at [address] (`host:port`) of unknown role.
             *
             * @throws picket.core.InvalidSpecException if [address] is not `host:port`.
             */
            @JvmStatic
            public fun of(address: String): MonitoredNode = MonitoredNode(Address.parse(address))
        }
    }
