package picket.core.engine

import picket.core.Address
import picket.core.InternalPicketApi
import java.util.concurrent.atomic.AtomicInteger

/**
 * A master a resolver found, as the block runner sees it: its address, the config-epoch it came with, and the count
 * of replicas durable blocks on it must reach. A resolver that follows failovers keeps more on it (a subclass).
 */
@InternalPicketApi
public open class MasterNode(
    public val address: Address,
    configEpoch: Long?,
) {
    /** Sentinel's config-epoch for this master, once known (after a switch it is asked for right after); or null. */
    @Volatile
    public var configEpoch: Long? = configEpoch

    /** The most replicas ever seen attached to this master: durable blocks never settle for fewer. */
    private val durableFloor = AtomicInteger(0)

    /**
     * How many replicas a durable block on this master must reach, given [attachedNow]: never fewer than were seen
     * before, because during a failover the replica being promoted leaves the master, and a write that only the
     * others confirm is lost when they resync from it.
     */
    public fun durableReplicas(attachedNow: Int): Int = durableFloor.accumulateAndGet(attachedNow, ::maxOf)

    /** When the master's own count of attached replicas (INFO replication) was last read (System.nanoTime), or null. */
    @Volatile
    public var replicasCountedAt: Long? = null
}
