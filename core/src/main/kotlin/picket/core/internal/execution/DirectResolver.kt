package picket.core.internal.execution

import picket.core.ConnSpec
import picket.core.SpecTarget
import picket.core.engine.Lease
import picket.core.engine.NodeResolver
import picket.core.internal.connections.DataConnections

/** The node of a direct spec: its address, always; nothing to drop when it fails. */
internal class DirectResolver(
    private val connections: DataConnections,
) : NodeResolver {
    override suspend fun acquire(spec: ConnSpec): Lease {
        val address = (spec.target as SpecTarget.Direct).address
        val key = DataConnections.Key.of(address, spec)
        return Lease(spec, address, key, connections.get(key, spec), isReplica = false, resolver = this)
    }
}
