package picket.sentinel.internal.resolution

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.sync.withLock
import picket.core.Address
import picket.core.BalancerException
import picket.core.ConnSpec
import picket.core.NoHealthyReplicaException
import picket.core.NodeConnectionException
import picket.core.PicketEvent
import picket.core.ReadFrom
import picket.core.ReplicaBehindException
import picket.core.SentinelGroup
import picket.core.SpecTarget
import picket.core.StaleMasterException
import picket.core.engine.Failure
import picket.core.engine.Lease
import picket.core.engine.NodeResolver
import picket.core.internal.connections.DataConnections
import picket.core.internal.events.EventBus
import picket.core.internal.execution.StateReply
import picket.sentinel.internal.failover.WriteMarks
import java.time.Duration

private val log = KotlinLogging.logger {}

/**
 * The nodes of one sentinel group's master names, for the block runner: the cached master (after any announced
 * failover, checked once with ROLE) or a healthy replica that the spec's balancer picks; and what a failed block
 * proves (a master dropped from the cache, a replica passed over). Read-your-writes, loss detection and the
 * "new master serving" event hang on the blocks' outcomes here.
 */
internal class SentinelResolver(
    private val name: String,
    private val config: SentinelGroup,
    private val resolver: GroupResolver,
    private val connections: DataConnections,
    private val bus: EventBus,
    /** False once the group is removed or replaced: its blocks' outcomes no longer matter to it. */
    private val declared: () -> Boolean,
) : NodeResolver {
    override suspend fun acquire(spec: ConnSpec): Lease =
        when (val readFrom = spec.readFrom) {
            ReadFrom.Master -> acquireMaster(spec)
            is ReadFrom.PreferReplica -> acquireReplica(spec, readFrom)
        }

    /**
     * Waits while a failover of [lease]'s master is announced, at most the group's parking timeout. The wait is not
     * charged to the spec's command timeout: a 1 s command timeout would otherwise fail every block parked for a
     * failover whose promotion Sentinel confirms after more than a second (they did not run and need not fail).
     */
    override suspend fun awaitSwitch(lease: Lease) {
        if (lease.isReplica || lease.master == null || !declared()) return
        resolver.parking.await(masterNameOf(lease.spec))
    }

    /** A block ran on a master, successfully or not: later read-your-writes reads must see what it wrote. */
    override fun ran(lease: Lease) {
        if (lease.isReplica || lease.master == null || !declared()) return
        resolver.state.writeMarks(masterNameOf(lease.spec)).ran(lease.connection)
    }

    /**
     * A block succeeded on a master: loss detection reads a replication mark after it, and the first one on a master
     * that replaced another says the new master serves.
     */
    override fun succeeded(lease: Lease) {
        val entry = lease.master as? MasterEntry ?: return
        if (!declared()) return
        if (config.lossDetection) resolver.lossWatch.acknowledged(entry, lease.connection)
        val switchedAt = entry.switchedAt ?: return
        if (!entry.served.compareAndSet(false, true)) return
        val now = System.nanoTime()
        bus.emit(
            PicketEvent.NewMasterServing(
                name,
                masterNameOf(lease.spec),
                entry.address,
                Duration.ofNanos(now - switchedAt),
                entry.failoverStartedAt?.let { Duration.ofNanos(now - it) },
            ),
        )
    }

    override fun failed(
        lease: Lease,
        failure: Failure,
        error: Exception,
    ) {
        val masterName = masterNameOf(lease.spec)
        if (!lease.isReplica) {
            resolver.invalidate(masterName, lease.address, "$failure: ${error.message}")
            return
        }
        // A replica still loading its data, or cut from its master, is passed over until it can serve.
        StateReply.of(error)?.takeIf { it.passesReplicaOver }?.let {
            resolver.state.passOver(lease.address, "answered ${it.name} within the last second")
            bus.emit(PicketEvent.ReplicaPassedOver(name, masterName, lease.address, error.message.orEmpty()))
        }
        resolver.replicasChanged(masterName)
    }

    private suspend fun acquireMaster(spec: ConnSpec): Lease {
        val masterName = masterNameOf(spec)
        // During a failover announced by its leader, wait for the switch rather than write to the old master.
        resolver.parking.await(masterName)
        var lastRole = "unknown"
        var lastAddress: Address? = null
        repeat(STALE_ATTEMPTS) {
            val entry = resolver.master(masterName)
            lastAddress = entry.address
            val key = DataConnections.Key.of(entry.address, spec, config.addressMapper)
            val connection =
                try {
                    connections.get(key, spec)
                } catch (e: NodeConnectionException) {
                    resolver.invalidate(masterName, entry.address, "connection failed: ${e.cause?.message}")
                    throw e
                }
            if (verifyOrThrow(masterName, entry, spec, key, connection)) {
                return Lease(spec, entry.address, key, connection, isReplica = false, resolver = this, master = entry)
            }
            lastRole = entry.staleRole ?: "unknown"
        }
        throw StaleMasterException(name, masterName, lastAddress!!, lastRole)
    }

    /** [verify], with its failures typed: an unreachable node dropped, a state reply with the node. */
    private suspend fun verifyOrThrow(
        masterName: String,
        entry: MasterEntry,
        spec: ConnSpec,
        key: DataConnections.Key,
        connection: StatefulRedisConnection<String, String>,
    ): Boolean =
        try {
            verify(masterName, entry, key, connection)
        } catch (e: CancellationException) {
            // Lettuce cancels a command queued on a connection being closed; the caller was not cancelled.
            currentCoroutineContext().ensureActive()
            throw unusable(masterName, entry, spec, e)
        } catch (e: RedisCommandExecutionException) {
            // A state reply (BUSY: a script runs): typed, with the node.
            throw StateReply.of(e)?.typed(e, entry.address, spec.target.toString()) ?: e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            // A node that does not answer ROLE (paused, partitioned, closed) cannot be used: typed, dropped.
            throw if (Failure.of(e).unreachable) unusable(masterName, entry, spec, e) else e
        }

    /** Drops [entry], whose node could not answer ROLE, and says so to the caller. */
    private fun unusable(
        masterName: String,
        entry: MasterEntry,
        spec: ConnSpec,
        cause: Exception,
    ): NodeConnectionException {
        resolver.invalidate(masterName, entry.address, "ROLE failed: ${cause.message}")
        return NodeConnectionException(entry.address, spec.target.toString(), cause)
    }

    /**
     * Checks once per cached entry, with ROLE, that the node is master; concurrent blocks wait for that one verdict.
     * A node that is not master is dropped from the cache.
     */
    private suspend fun verify(
        masterName: String,
        entry: MasterEntry,
        key: DataConnections.Key,
        connection: StatefulRedisConnection<String, String>,
    ): Boolean {
        if (entry.verified.get()) return true
        entry.verifying.withLock {
            if (entry.verified.get()) return true
            if (entry.staleRole != null) return false
            val role = roleOf(connection)
            if (role != "master") {
                entry.staleRole = role
                resolver.invalidate(masterName, entry.address, "reports role '$role'")
                return false
            }
            entry.verifiedWith = key
            entry.verified.set(true)
        }
        bus.emit(
            PicketEvent.MasterResolved(
                name,
                masterName,
                entry.address,
                entry.sentinel ?: entry.address,
                entry.configEpoch,
            ),
        )
        return true
    }

    private suspend fun acquireReplica(
        spec: ConnSpec,
        readFrom: ReadFrom.PreferReplica,
    ): Lease {
        val masterName = masterNameOf(spec)
        val view = replicasNotPassedOver(masterName)
        if (view.healthy.isEmpty()) {
            if (readFrom.fallbackToMaster) return acquireMaster(spec)
            throw NoHealthyReplicaException(name, masterName, view.rejected)
        }
        val chosen = pick(spec, readFrom, view)
        if (view.fresh) bus.emit(PicketEvent.ReplicaResolved(name, masterName, chosen, view.healthy))
        val key = DataConnections.Key.of(chosen, spec, config.addressMapper)
        val connection =
            try {
                connections.get(key, spec)
            } catch (e: NodeConnectionException) {
                resolver.state.passOver(chosen, REFUSED)
                resolver.replicasChanged(masterName)
                throw e
            }
        if (readFrom.readYourWrites && !caughtUp(spec, readFrom, chosen, connection)) return acquireMaster(spec)
        return Lease(spec, chosen, key, connection, isReplica = true, resolver = this)
    }

    /**
     * The healthy replicas Sentinel lists, less those that refused a connection or answered LOADING or MASTERDOWN a
     * moment ago: they are passed over while Sentinel still lists them.
     */
    private suspend fun replicasNotPassedOver(masterName: String): ReplicaView {
        val resolved = resolver.replicas(masterName)
        val passedOver = resolver.state.passedOverReplicas()
        if (passedOver.isEmpty()) return resolved
        return resolved.copy(
            healthy = resolved.healthy - passedOver.keys,
            rejected = resolved.rejected + passedOver.filterKeys { it in resolved.healthy },
        )
    }

    /** The replica [readFrom]'s balancer picks among [view]'s healthy ones; a [BalancerException] if it misbehaves. */
    private fun pick(
        spec: ConnSpec,
        readFrom: ReadFrom.PreferReplica,
        view: ReplicaView,
    ): Address {
        val chosen =
            try {
                readFrom.balancer.pick(view.healthy)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                throw BalancerException("the balancer of ${spec.target} threw ${e::class.simpleName}: ${e.message}", e)
            }
        if (chosen !in view.healthy) {
            throw BalancerException("the balancer of ${spec.target} returned $chosen, not one of ${view.healthy}")
        }
        return chosen
    }

    /**
     * Whether [replica] has applied the master's stream up to the last block run on the master; false means read
     * the master. Throws [ReplicaBehindException] instead when the spec does not fall back to the master.
     */
    private suspend fun caughtUp(
        spec: ConnSpec,
        readFrom: ReadFrom.PreferReplica,
        replica: Address,
        connection: StatefulRedisConnection<String, String>,
    ): Boolean {
        val masterName = masterNameOf(spec)
        val timeoutMs = minOf(spec.commandTimeout.toMillis(), READ_YOUR_WRITES_CHECK_MS)
        val required =
            when (val answer = resolver.state.writeMarks(masterName).required(timeoutMs)) {
                WriteMarks.Required.NoWrites -> {
                    return true
                }

                is WriteMarks.Required.Offset -> {
                    answer.offset
                }

                is WriteMarks.Required.Unknown -> {
                    log.debug { "read-your-writes on ${spec.target}: ${answer.reason}; reading the master" }
                    if (readFrom.fallbackToMaster) return false
                    throw ReplicaBehindException(name, masterName, replica, null, null)
                }
            }
        val applied = WriteMarks.appliedOffset(connection, timeoutMs)
        if (applied != null && applied >= required) return true
        if (readFrom.fallbackToMaster) return false
        throw ReplicaBehindException(name, masterName, replica, applied, required)
    }

    /** The master name of a spec of this group: the runner hands this resolver only those. */
    private fun masterNameOf(spec: ConnSpec): String = (spec.target as SpecTarget.Sentinel).masterName

    private companion object {
        /** How long read-your-writes waits for ROLE from the master or the replica before reading the master. */
        const val READ_YOUR_WRITES_CHECK_MS = 100L

        /** Why a replica that Sentinel lists as healthy was passed over. */
        const val REFUSED = "refused a connection within the last second"

        /** Resolutions whose master turned out not to be one (ROLE), before giving up. */
        const val STALE_ATTEMPTS = 3
    }
}
