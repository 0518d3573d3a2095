package picket.sentinel.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisException
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.future.await
import kotlinx.coroutines.sync.withLock
import picket.core.Address
import picket.core.BalancerException
import picket.core.ConnSpec
import picket.core.ConnectionLostException
import picket.core.Durability
import picket.core.DurabilityException
import picket.core.InternalPicketApi
import picket.core.NoHealthyReplicaException
import picket.core.NodeConnectionException
import picket.core.PicketEvent
import picket.core.PicketException
import picket.core.ReadFrom
import picket.core.ReplicaBehindException
import picket.core.StaleMasterException
import java.time.Duration

private val log = KotlinLogging.logger {}

/**
 * Runs blocks: finds the node (cache, resolution, ROLE check), takes the shared connection, runs the block, waits
 * for the durability the spec asks, and on failure drops what the error proves wrong and runs the block again only
 * where that is safe.
 */
@OptIn(InternalPicketApi::class)
internal class Engine(
    private val groups: (String) -> GroupRuntime,
    private val connections: DataConnections,
    private val bus: EventBus,
) {
    /**
     * Runs [run] on the node for [spec], on the shared connection or, if [dedicated], on a connection of its own
     * from the node's pool (blocking commands, transactions, pipelines); durability is awaited on the connection
     * the writes went through.
     */
    suspend fun <T> execute(
        spec: ConnSpec,
        dedicated: Boolean = false,
        run: suspend (Lease) -> T,
    ): T {
        if (!dedicated) enclosingLease(spec)?.let { return run(it) }
        var attempt = 1
        while (true) {
            val lastAttempt = attempt++ >= MAX_ATTEMPTS
            val lease = acquireOrNull(spec, lastAttempt) ?: continue
            try {
                val result =
                    try {
                        runDurably(spec, lease, dedicated, run)
                    } finally {
                        ranOnMaster(lease)
                    }
                acknowledged(lease)
                return result
            } catch (e: CancellationException) {
                currentCoroutineContext().ensureActive()
                // Not the caller's cancellation: Lettuce cancels the commands still queued on a connection that is
                // being closed (a switch closes the old master's connections). Surfacing it as a cancellation would
                // end a caller that was never cancelled; it is a lost connection.
                recover(lease, RedisException("Connection closed with the command queued", e), lastAttempt)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                recover(lease, e, lastAttempt)
            }
        }
    }

    /**
     * Waits while a failover of [lease]'s master is announced (write parking), for blocks that run long on one
     * connection: a pipeline before each window, a transaction before `MULTI`. After the switch their connection to
     * the old master is closed and they fail, instead of writing to a master about to be demoted.
     */
    suspend fun awaitParking(lease: Lease) {
        if (lease.isReplica || lease.entry == null) return
        val spec = lease.spec
        val group = runCatching { groups(spec.sentinelGroup ?: return) }.getOrNull() ?: return
        park(group, spec)
    }

    /**
     * Waits while a failover of [spec]'s master is announced, at most the group's parking timeout. The wait is not
     * charged to the spec's command timeout: a 1 s command timeout would otherwise fail every block parked for a
     * failover whose promotion Sentinel confirms after more than a second (they did not run and need not fail).
     */
    private suspend fun park(
        group: GroupRuntime,
        spec: ConnSpec,
    ) = group.resolver.parking.await(spec.masterName!!)

    /** Runs [run] on [lease]'s connection or a dedicated one, then waits for durability on that same connection. */
    private suspend fun <T> runDurably(
        spec: ConnSpec,
        lease: Lease,
        dedicated: Boolean,
        run: suspend (Lease) -> T,
    ): T {
        if (!dedicated) return run(lease).also { awaitDurability(spec, lease) }
        return connections.dedicated.use(lease.key, spec) { connection ->
            val own = lease.on(connection)
            run(own).also { awaitDurability(spec, own) }
        }
    }

    /** The node for [spec], or null if connecting failed before anything was sent and another attempt may help. */
    private suspend fun acquireOrNull(
        spec: ConnSpec,
        lastAttempt: Boolean,
    ): Lease? {
        while (true) {
            try {
                return acquire(spec)
            } catch (e: NodeConnectionException) {
                // Nothing was sent: the entry has been dropped, so another round may find the right node.
                if (lastAttempt) throw e
                return null
            } catch (e: CancellationException) {
                // The caller itself was cancelled: that is the answer.
                currentCoroutineContext().ensureActive()
                // A resolution shared with other callers was cancelled under this caller: its group was removed or
                // replaced, or Picket closed. Looking the group up again says which: a replaced group resolves
                // anew, a removed one throws SentinelGroupUnknownException, a closed Picket PicketClosedException.
                // This ends: only closing a group cancels its resolutions.
                log.debug(e) { "a resolution for ${spec.target()} was cancelled by a group change; looking again" }
            }
        }
    }

    /**
     * Drops what [error] proves wrong, then returns if the block may run again, or throws: a block runs again only
     * if nothing of it had run and the error proves the failing command did not run either, or if its spec is
     * idempotent and running again could help.
     */
    private fun recover(
        lease: Lease,
        error: Exception,
        lastAttempt: Boolean,
    ) {
        // READONLY from a node used as a replica (a replica spec, or a direct spec naming one) is not a demotion: the
        // block wrote where writes are refused. A command error, passed through as it is and not run again.
        val misdirectedWrite =
            StateReply.of(error) == StateReply.READONLY && (lease.isReplica || lease.spec.isDirect)
        val failure = if (misdirectedWrite) Failure.OTHER else Failure.of(error)
        if (failure.invalidates) nodeFailed(lease, failure, error)
        val untouched = failure.provablyNotRun && lease.tracker.completed == 0
        val again = failure.retriable && (untouched || lease.spec.idempotent)
        if (lastAttempt || !again) {
            throw finalError(lease, error, failure, misdirectedWrite)
        }
        log.debug { "running the block on ${lease.spec.target()} again after ${error.message} ($failure)" }
    }

    /** What a block that is not run again throws for [error]: typed with the node where Redis or Lettuce said why. */
    private fun finalError(
        lease: Lease,
        error: Exception,
        failure: Failure,
        misdirectedWrite: Boolean,
    ): Exception {
        val state = StateReply.of(error)?.takeUnless { misdirectedWrite }
        return when {
            // Redis's state replies, typed with the node: Lettuce's exception is the cause.
            state != null -> {
                state.typed(error as RedisCommandExecutionException, lease.address, lease.spec.target())
            }

            failure == Failure.CONNECTION_LOST -> {
                ConnectionLostException(lease.address, lease.spec.target(), error)
            }

            // Lettuce's own "not connected" rejections, after part of the block ran: typed, with the node.
            failure == Failure.NOT_CONNECTED && error !is PicketException -> {
                NodeConnectionException(lease.address, lease.spec.target(), error)
            }

            else -> {
                error
            }
        }
    }

    private suspend fun acquire(spec: ConnSpec): Lease {
        if (spec.isDirect) {
            val address = Address(spec.host!!, spec.port!!)
            val key = DataConnections.Key.of(address, spec)
            return Lease(spec, address, key, connections.get(key, spec), isReplica = false)
        }
        val group = groups(spec.sentinelGroup!!)
        return when (val readFrom = spec.readFrom) {
            ReadFrom.Master -> acquireMaster(group, spec)
            is ReadFrom.PreferReplica -> acquireReplica(group, spec, readFrom)
        }
    }

    private suspend fun acquireMaster(
        group: GroupRuntime,
        spec: ConnSpec,
    ): Lease {
        val masterName = spec.masterName!!
        // During a failover announced by its leader, wait for the switch rather than write to the old master.
        park(group, spec)
        var lastRole = "unknown"
        var lastAddress: Address? = null
        repeat(STALE_ATTEMPTS) {
            val entry = group.resolver.master(masterName)
            lastAddress = entry.address
            val key = DataConnections.Key.of(entry.address, spec, group.config.addressMapper)
            val connection =
                try {
                    connections.get(key, spec)
                } catch (e: NodeConnectionException) {
                    group.resolver.invalidate(masterName, entry.address, "connection failed: ${e.cause?.message}")
                    throw e
                }
            val verified = verifyOrThrow(group, masterName, entry, spec, key, connection)
            if (verified) {
                return Lease(spec, entry.address, key, connection, isReplica = false, entry = entry)
            }
            lastRole = entry.staleRole ?: "unknown"
        }
        throw StaleMasterException(group.name, masterName, lastAddress!!, lastRole)
    }

    /** [verify], with its failures typed: an unreachable node dropped, a state reply with the node. */
    private suspend fun verifyOrThrow(
        group: GroupRuntime,
        masterName: String,
        entry: MasterEntry,
        spec: ConnSpec,
        key: DataConnections.Key,
        connection: StatefulRedisConnection<String, String>,
    ): Boolean =
        try {
            verify(group, masterName, entry, key, connection)
        } catch (e: CancellationException) {
            // Lettuce cancels a command queued on a connection being closed; the caller was not cancelled.
            currentCoroutineContext().ensureActive()
            throw unusable(group, masterName, entry, spec, e)
        } catch (e: RedisCommandExecutionException) {
            // A state reply (BUSY: a script runs): typed, with the node.
            throw StateReply.of(e)?.typed(e, entry.address, spec.target()) ?: e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            // A node that does not answer ROLE (paused, partitioned, closed) cannot be used: typed, dropped.
            throw if (Failure.of(e).unreachable) unusable(group, masterName, entry, spec, e) else e
        }

    /** A block ran on a master, successfully or not: later read-your-writes reads must see what it wrote. */
    private fun ranOnMaster(lease: Lease) {
        if (lease.isReplica || lease.entry == null) return
        val group = runCatching { groups(lease.spec.sentinelGroup ?: return) }.getOrNull() ?: return
        group.resolver.state
            .writeMarks(lease.spec.masterName!!)
            .ran(lease.connection)
    }

    /**
     * A block succeeded on a master: loss detection reads a replication mark after it, and the first one on a master
     * that replaced another says the new master serves.
     */
    private fun acknowledged(lease: Lease) {
        val entry = lease.entry ?: return
        // The group may have been removed while the block ran: then there is nothing to watch.
        val group = runCatching { groups(lease.spec.sentinelGroup ?: return) }.getOrNull() ?: return
        if (group.config.lossDetection) group.resolver.lossWatch.acknowledged(entry, lease.connection)
        val switchedAt = entry.switchedAt ?: return
        if (!entry.served.compareAndSet(false, true)) return
        val now = System.nanoTime()
        bus.emit(
            PicketEvent.NewMasterServing(
                group.name,
                lease.spec.masterName!!,
                entry.address,
                Duration.ofNanos(now - switchedAt),
                entry.failoverStartedAt?.let { Duration.ofNanos(now - it) },
            ),
        )
    }

    /** Drops [entry], whose node could not answer ROLE, and says so to the caller. */
    private fun unusable(
        group: GroupRuntime,
        masterName: String,
        entry: MasterEntry,
        spec: ConnSpec,
        cause: Exception,
    ): NodeConnectionException {
        group.resolver.invalidate(masterName, entry.address, "ROLE failed: ${cause.message}")
        return NodeConnectionException(entry.address, spec.target(), cause)
    }

    /**
     * Checks once per cached entry, with ROLE, that the node is master; concurrent blocks wait for that one verdict.
     * A node that is not master is dropped from the cache.
     */
    private suspend fun verify(
        group: GroupRuntime,
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
                group.resolver.invalidate(masterName, entry.address, "reports role '$role'")
                return false
            }
            entry.verifiedWith = key
            entry.verified.set(true)
        }
        bus.emit(
            PicketEvent.MasterResolved(
                group.name,
                masterName,
                entry.address,
                entry.sentinel ?: entry.address,
                entry.configEpoch,
            ),
        )
        return true
    }

    private suspend fun acquireReplica(
        group: GroupRuntime,
        spec: ConnSpec,
        readFrom: ReadFrom.PreferReplica,
    ): Lease {
        val masterName = spec.masterName!!
        val resolved = group.resolver.replicas(masterName)
        // A replica that refused a connection or answered LOADING or MASTERDOWN a moment ago is passed over while
        // Sentinel still lists it.
        val passedOver = group.resolver.state.passedOverReplicas()
        val view =
            if (passedOver.isEmpty()) {
                resolved
            } else {
                resolved.copy(
                    healthy = resolved.healthy - passedOver.keys,
                    rejected = resolved.rejected + passedOver.filterKeys { it in resolved.healthy },
                )
            }
        if (view.healthy.isEmpty()) {
            if (readFrom.fallbackToMaster) return acquireMaster(group, spec)
            throw NoHealthyReplicaException(group.name, masterName, view.rejected)
        }
        val chosen =
            try {
                readFrom.balancer.pick(view.healthy)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                throw BalancerException(
                    "the balancer of ${spec.target()} threw ${e::class.simpleName}: ${e.message}",
                    e,
                )
            }
        if (chosen !in view.healthy) {
            throw BalancerException("the balancer of ${spec.target()} returned $chosen, not one of ${view.healthy}")
        }
        if (view.fresh) bus.emit(PicketEvent.ReplicaResolved(group.name, masterName, chosen, view.healthy))
        val key = DataConnections.Key.of(chosen, spec, group.config.addressMapper)
        val connection =
            try {
                connections.get(key, spec)
            } catch (e: NodeConnectionException) {
                group.resolver.state.passOver(chosen, REFUSED)
                group.resolver.replicasChanged(masterName)
                throw e
            }
        if (readFrom.readYourWrites && !caughtUp(group, spec, readFrom, chosen, connection)) {
            return acquireMaster(group, spec)
        }
        return Lease(spec, chosen, key, connection, isReplica = true)
    }

    /**
     * Whether [replica] has applied the master's stream up to the last block run on the master; false means read
     * the master. Throws [ReplicaBehindException] instead when the spec does not fall back to the master.
     */
    private suspend fun caughtUp(
        group: GroupRuntime,
        spec: ConnSpec,
        readFrom: ReadFrom.PreferReplica,
        replica: Address,
        connection: StatefulRedisConnection<String, String>,
    ): Boolean {
        val masterName = spec.masterName!!
        val timeoutMs = minOf(spec.commandTimeout.toMillis(), READ_YOUR_WRITES_CHECK_MS)
        val required =
            when (
                val answer =
                    group.resolver.state
                        .writeMarks(masterName)
                        .required(timeoutMs)
            ) {
                WriteMarks.Required.NoWrites -> {
                    return true
                }

                is WriteMarks.Required.Offset -> {
                    answer.offset
                }

                is WriteMarks.Required.Unknown -> {
                    log.debug { "read-your-writes on ${spec.target()}: ${answer.reason}; reading the master" }
                    if (readFrom.fallbackToMaster) return false
                    throw ReplicaBehindException(group.name, masterName, replica, null, null)
                }
            }
        val applied = WriteMarks.appliedOffset(connection, timeoutMs)
        if (applied != null && applied >= required) return true
        if (readFrom.fallbackToMaster) return false
        throw ReplicaBehindException(group.name, masterName, replica, applied, required)
    }

    private fun nodeFailed(
        lease: Lease,
        failure: Failure,
        error: Exception,
    ) {
        if (!lease.connection.isOpen) connections.discard(lease.key, lease.connection)
        val spec = lease.spec
        if (spec.isDirect) return
        val resolver = groups(spec.sentinelGroup!!).resolver
        if (lease.isReplica) {
            // A replica still loading its data, or cut from its master, is passed over until it can serve.
            StateReply.of(error)?.takeIf { it.passesReplicaOver }?.let {
                resolver.state.passOver(lease.address, "answered ${it.name} within the last second")
                bus.emit(
                    PicketEvent.ReplicaPassedOver(
                        resolver.state.name,
                        spec.masterName!!,
                        lease.address,
                        error.message.orEmpty(),
                    ),
                )
            }
            resolver.replicasChanged(spec.masterName!!)
        } else {
            resolver.invalidate(spec.masterName!!, lease.address, "$failure: ${error.message}")
        }
    }

    private suspend fun awaitDurability(
        spec: ConnSpec,
        lease: Lease,
    ) {
        val durability = spec.durability
        if (lease.isReplica) return
        val (required, timeout) =
            when (durability) {
                is Durability.None -> return
                is Durability.Replicas -> (durability.count ?: replicasToConfirm(lease)) to durability.timeout
                is Durability.Majority -> replicasToConfirm(lease) / 2 + 1 to durability.timeout
                is Durability.Aof -> return awaitAof(durability, lease)
            }
        if (required == 0) return
        val confirmed =
            lease.connection
                .async()
                .waitForReplication(required, timeout.toMillis())
                .await()
        if (confirmed < required) throw DurabilityException(lease.address, required, confirmed.toInt())
    }

    /** `WAITAOF`: the master (if asked) and the replicas fsync the block's writes, or a [DurabilityException]. */
    private suspend fun awaitAof(
        durability: Durability.Aof,
        lease: Lease,
    ) {
        val required = durability.replicas ?: replicasToConfirm(lease)
        val reply =
            try {
                Aof.await(lease.connection, durability.local, required, durability.timeout.toMillis())
            } catch (e: RedisCommandExecutionException) {
                val reason =
                    if (e.message.orEmpty().contains("unknown command", ignoreCase = true)) {
                        "the master does not know WAITAOF (Redis 7.2 or later has it)"
                    } else {
                        "WAITAOF failed: ${e.message}"
                    }
                throw DurabilityException(lease.address, required, 0, reason = reason)
            }
        val (local, replicas) = reply
        val fsyncedLocally = local >= 1
        if ((durability.local && !fsyncedLocally) || replicas < required) {
            val asked = if (durability.local) fsyncedLocally else null
            throw DurabilityException(lease.address, required, replicas.toInt(), asked)
        }
    }

    /**
     * How many replicas "every replica" means for [lease]'s master: the replicas the master itself has, in any
     * state (`connected_slaves` of INFO replication, read at most once a second), never fewer than were seen before
     * for the same master entry, and at least one.
     *
     * Each narrower view lost acknowledged writes in the failover specs. Sentinel's healthy view lags by up to 10 s
     * (it counted a restarted replica late). ROLE lists only replicas that are online, so a replica finishing a full
     * sync was left out, and a write confirmed by the other one was lost when that other one was resynced from the
     * promoted replica. The floor keeps the count from shrinking during a failover, when the replica being promoted
     * leaves the master.
     */
    private suspend fun replicasToConfirm(lease: Lease): Int {
        val attached =
            suspend {
                val info =
                    lease.connection
                        .async()
                        .info("replication")
                        .await()
                info
                    .lineSequence()
                    .firstOrNull {
                        it.startsWith(
                            "connected_slaves:",
                        )
                    }?.substringAfter(':')
                    ?.trim()
                    ?.toIntOrNull()
                    ?: 0
            }
        val entry = lease.entry ?: return attached().coerceAtLeast(1)
        val now = System.nanoTime()
        val countedAt = entry.replicasCountedAt
        var seen = 0
        if (countedAt == null || now - countedAt > COUNT_REFRESH_NANOS) {
            seen = attached()
            entry.replicasCountedAt = now
        }
        return entry.durableReplicas(seen).coerceAtLeast(1)
    }

    private companion object {
        /** How often a durable master's own count of attached replicas (INFO replication) is read again. */
        const val COUNT_REFRESH_NANOS = 1_000_000_000L

        /** How long read-your-writes waits for ROLE from the master or the replica before reading the master. */
        const val READ_YOUR_WRITES_CHECK_MS = 100L

        /** Why a replica that Sentinel lists as healthy was passed over. */
        const val REFUSED = "refused a connection within the last second"

        /** Attempts at running one block, counting the first. */
        const val MAX_ATTEMPTS = 3

        /** Resolutions whose master turned out not to be one (ROLE), before giving up. */
        const val STALE_ATTEMPTS = 3
    }
}
