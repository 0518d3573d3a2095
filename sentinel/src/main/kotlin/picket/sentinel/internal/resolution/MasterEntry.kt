package picket.sentinel.internal.resolution

import kotlinx.coroutines.sync.Mutex
import picket.core.Address
import picket.core.engine.MasterNode
import picket.core.internal.connections.DataConnections
import picket.sentinel.internal.failover.LossWatch
import java.util.concurrent.atomic.AtomicBoolean

/** A cached master: where it is, who said so, and whether a ROLE check has confirmed it since. */
internal class MasterEntry(
    address: Address,
    val sentinel: Address?,
    configEpoch: Long?,
) : MasterNode(address, configEpoch) {
    /** Set by the first block that checked ROLE on it; the one that sets it emits MasterResolved. */
    val verified = AtomicBoolean(false)

    /** Held while one block checks ROLE, so that concurrent blocks wait for its verdict instead of asking too. */
    val verifying = Mutex()

    /** The role the node reported if it was not master: the entry is stale and must not be used. */
    @Volatile
    var staleRole: String? = null

    /** Set once a sentinel's SENTINEL MASTER was asked for this entry's epoch after a repeated announcement. */
    val epochAsked = AtomicBoolean(false)

    /** Replication marks read after blocks succeeded on it, for loss detection ([LossWatch]). */
    val marks = LossWatch.Marks()

    /** When a switch cached it (System.nanoTime), or null if a resolution found it without replacing another. */
    @Volatile
    var switchedAt: Long? = null

    /** When the failover that led to it started (the leader's `+selected-slave`), if Picket parked for it. */
    @Volatile
    var failoverStartedAt: Long? = null

    /** Set by the first block that succeeded on it: that one emits NewMasterServing after a switch. */
    val served = AtomicBoolean(false)

    /** The connection key of the block that verified it, for later ROLE checks with the same credentials. */
    @Volatile
    var verifiedWith: DataConnections.Key? = null
}
