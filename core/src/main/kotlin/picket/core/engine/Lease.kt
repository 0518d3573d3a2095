package picket.core.engine

import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.currentCoroutineContext
import picket.core.Address
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.internal.CommandTracker
import picket.core.internal.connections.DataConnections
import kotlin.coroutines.AbstractCoroutineContextElement
import kotlin.coroutines.CoroutineContext

/** One block's hold on a connection: which node, with which credentials, as master or replica. */
@OptIn(InternalPicketApi::class)
@InternalPicketApi
public class Lease(
    public val spec: ConnSpec,
    public val address: Address,
    public val key: DataConnections.Key,
    public val connection: StatefulRedisConnection<String, String>,
    public val isReplica: Boolean,
    /** What found the node, and hears how the block went. */
    public val resolver: NodeResolver,
    /** The master a master lease was taken on, as its resolver knows it; null for replicas and direct specs. */
    public val master: MasterNode? = null,
    /** Counts the block's completed commands: shared with [on]'s lease, so that retries know what ran. */
    public val tracker: CommandTracker = CommandTracker(),
) {
    /** This lease on a dedicated [connection] to the same node. */
    public fun on(connection: StatefulRedisConnection<String, String>): Lease =
        Lease(spec, address, key, connection, isReplica, resolver, master, tracker)
}

/** The leases of the blocks enclosing the current coroutine, so that a nested block on the same spec reuses one. */
internal class LeaseContext(
    val leases: Map<ConnSpec, Lease>,
) : AbstractCoroutineContextElement(LeaseContext) {
    companion object Key : CoroutineContext.Key<LeaseContext>

    fun with(lease: Lease): LeaseContext = LeaseContext(leases + (lease.spec to lease))
}

/** The enclosing block's lease for [spec], if its connection is still open. */
internal suspend fun enclosingLease(spec: ConnSpec): Lease? =
    currentCoroutineContext()[LeaseContext]?.leases?.get(spec)?.takeIf { it.connection.isOpen }
