package picket.sentinel.internal.resolution

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.async
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.delay
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.future.await
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.ConnSpec
import picket.core.FailoverOutcome
import picket.core.MasterNameUnknownException
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SentinelsUnreachableException
import picket.core.internal.connections.DataConnections
import picket.core.internal.connections.bounded
import picket.core.internal.events.EventBus
import picket.core.internal.unlessCancelled
import picket.sentinel.internal.failover.LossWatch
import picket.sentinel.internal.failover.MasterSwitch
import picket.sentinel.internal.failover.ParkingLot
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap

private val log = KotlinLogging.logger {}

/** The healthy replicas of a master name, why the others were rejected, and whether this came from the sentinels. */
internal data class ReplicaView(
    val healthy: List<Address>,
    val rejected: Map<Address, String>,
    val fresh: Boolean,
)

/**
 * Resolves the master names of one sentinel group: the cache, one resolution in flight per name, sentinels asked
 * in order (last good first), the switch on `+switch-master`, invalidation and ROLE sweeps.
 */
internal class GroupResolver(
    val state: GroupState,
    private val queries: SentinelQueries,
    private val connections: DataConnections,
    private val bus: EventBus,
    private val scope: CoroutineScope,
) {
    /** Told of sentinels discovered while resolving, so that they are subscribed to as well. */
    @Volatile
    var onSentinelsLearnt: (List<Address>) -> Unit = {}

    private val masterFlights = ConcurrentHashMap<String, Deferred<MasterEntry>>()
    private val replicaFlights = ConcurrentHashMap<String, Deferred<ReplicaView>>()
    private val switchLock = state.switchLock

    /** Checks and warm connections on the group's nodes, for sweeps and switches. */
    private val checks = NodeChecks(state, connections)

    /** Replication marks of acknowledged blocks, checked against the new master after a switch. */
    val lossWatch = LossWatch(scope, bus)

    /** Failovers announced by their leader, during which new master blocks wait. */
    val parking = ParkingLot(state, bus, scope)

    /** Switches of the cached master on announcements, promotions and re-validations. */
    val switches = MasterSwitch(state, queries, connections, bus, scope, parking, lossWatch, checks)

    /** When the last round for each name started (System.nanoTime), for [pace]. */
    private val masterPace = ConcurrentHashMap<String, Long>()
    private val replicaPace = ConcurrentHashMap<String, Long>()

    /** The cached master of [masterName], or the answer of one resolution shared by every concurrent caller. */
    suspend fun master(masterName: String): MasterEntry =
        state.masters[masterName]?.also { state.hit(masterName) } ?: singleFlight(masterFlights, masterName) {
            state.masters[masterName] ?: run {
                pace(masterPace, masterName)
                resolveMaster(masterName)
            }
        }

    /** The healthy replicas of [masterName], cached until an event or an error says they changed. */
    suspend fun replicas(masterName: String): ReplicaView =
        state.replicas[masterName]?.let { ReplicaView(it, emptyMap(), fresh = false) }
            ?: singleFlight(replicaFlights, masterName) {
                pace(replicaPace, masterName)
                resolveReplicas(masterName)
            }

    private suspend fun resolveMaster(masterName: String): MasterEntry {
        val generation = state.generation(masterName)
        val (answer, sentinel) = askSentinels(masterName)
        val entry = MasterEntry(answer.address, sentinel, answer.configEpoch)
        val previous: Address?
        synchronized(switchLock) {
            // A switch during the round trip wins: its address is newer than this answer.
            if (state.generation(masterName) != generation) return state.masters[masterName] ?: entry
            previous = state.lastEntries[masterName]?.address
            if (previous != null && previous != answer.address) entry.switchedAt = System.nanoTime()
            state.cache(masterName, entry)
        }
        if (previous != null && previous != answer.address) {
            state.replicas.remove(masterName)
            connections.closeAll(previous)
            bus.emit(
                PicketEvent.SwitchMaster(state.name, masterName, previous, answer.address, null, answer.configEpoch),
            )
        }
        return entry
    }

    /**
     * Asks the sentinels for [masterName] ([MasterRound]): in order until one gives a usable answer, or, for a cold
     * resolution (no config-epoch followed for the name yet), all at once, following the highest config-epoch.
     */
    suspend fun askSentinels(masterName: String): Pair<MasterAnswer, Address> {
        state.rounds.incrementAndGet()
        val sentinels = state.orderedSentinels()
        val round = MasterRound(state, queries, bus, masterName)
        val cold = state.epochs[masterName] == null && sentinels.size > 1
        val (answer, sentinel) = if (cold) round.together(sentinels) else round.inTurn(sentinels)
        return accept(masterName, answer, sentinel)
    }

    /** Takes [sentinel]'s usable answer: it becomes the first to ask, and the sentinels it knows are learnt. */
    private fun accept(
        masterName: String,
        answer: MasterAnswer,
        sentinel: Address,
    ): Pair<MasterAnswer, Address> {
        state.followEpoch(masterName, answer.configEpoch)
        state.lastGood = sentinel
        learnSentinels(sentinel, answer.otherSentinels)
        return answer to sentinel
    }

    /**
     * Learns the sentinels [answering] names (`SENTINEL SENTINELS`, `+sentinel`): those that are not a known
     * sentinel under another spelling ([SentinelAddresses]) are added and subscribed to, and `SentinelsRefreshed`
     * says so. Host names may be resolved here: not on an I/O thread.
     */
    fun learnSentinels(
        answering: Address,
        named: List<Address>,
    ) {
        val fresh = state.learn(answering, SentinelAddresses.novel(state.allSentinels(), named))
        if (fresh.isNotEmpty()) {
            bus.emit(PicketEvent.SentinelsRefreshed(state.name, state.allSentinels()))
            onSentinelsLearnt(fresh)
        }
    }

    private suspend fun resolveReplicas(masterName: String): ReplicaView {
        state.rounds.incrementAndGet()
        val generation = state.generation(masterName)
        val failures = LinkedHashMap<Address, Throwable>()
        var rejected = emptyMap<Address, String>()
        var answered = false
        for (sentinel in state.orderedSentinels()) {
            try {
                val answers = queries.replicas(sentinel, state.config, masterName) ?: continue
                answered = true
                val healthy = answers.filter { it.problem == null }.map { it.address }
                if (healthy.isNotEmpty()) {
                    synchronized(switchLock) {
                        if (state.generation(masterName) == generation) state.replicas[masterName] = healthy
                    }
                    return ReplicaView(
                        healthy,
                        answers.filter { it.problem != null }.associate {
                            it.address to
                                it.problem!!
                        },
                        true,
                    )
                }
                // This sentinel sees no healthy replica; another one may.
                rejected = answers.associate { it.address to it.problem!! }
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                fail(failures, sentinel, masterName, e)
            }
        }
        if (!answered) {
            val error =
                if (failures.isEmpty()) {
                    MasterNameUnknownException(state.name, masterName, state.orderedSentinels())
                } else {
                    SentinelsUnreachableException(state.name, masterName, failures)
                }
            bus.emit(PicketEvent.ResolutionFailed(state.name, masterName, error))
            throw error
        }
        return ReplicaView(emptyList(), rejected, true)
    }

    /** Drops the cached master [masterName] if it is still [address]. */
    fun invalidate(
        masterName: String,
        address: Address,
        reason: String,
    ): PicketEvent.EntryInvalidated? {
        val entry = state.masters[masterName]?.takeIf { it.address == address } ?: return null
        if (!state.masters.remove(masterName, entry)) return null
        state.bump(masterName)
        state.replicas.remove(masterName)
        return PicketEvent.EntryInvalidated(state.name, masterName, address, reason).also { bus.emit(it) }
    }

    /** Forgets the cached replicas of [masterName]: the next replica block asks the sentinels again. */
    fun replicasChanged(masterName: String) {
        state.replicas.remove(masterName)
    }

    /** Asks the sentinels again about every cached master and follows any switch that was missed. */
    suspend fun revalidate() {
        state.masters.keys.toList().forEach { masterName ->
            unlessCancelled({ e -> log.debug { "re-validation of ${state.name}/$masterName failed: ${e.message}" } }) {
                val (answer, sentinel) = askSentinels(masterName)
                switches.switchMaster(masterName, answer.address, sentinel)
            }
        }
    }

    /** Checks ROLE of every cached master and drops those that fail or are no longer master. */
    suspend fun removeInvalid(): List<PicketEvent.EntryInvalidated> =
        state.masters.entries.toList().mapNotNull { (masterName, entry) ->
            val reason =
                try {
                    val role = checks.roleOf(entry)
                    if (role == "master") null else "reports role '$role'"
                } catch (e: CancellationException) {
                    // Lettuce cancels ROLE queued on a connection being closed: a failure of this entry only.
                    currentCoroutineContext().ensureActive()
                    "ROLE cancelled: the connection was closed (${e.message})"
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    "ROLE failed: ${e.message ?: e::class.simpleName}"
                }
            reason?.let {
                invalidate(masterName, entry.address, it)?.also { connections.closeAll(entry.address) }
            }
        }

    private fun fail(
        failures: MutableMap<Address, Throwable>,
        sentinel: Address,
        masterName: String,
        cause: Throwable,
    ) {
        failures[sentinel] = cause
        bus.emit(PicketEvent.SentinelError(state.name, sentinel, masterName, cause))
    }

    /**
     * Waits, inside a single flight, until [SentinelGroup.resolutionInterval] has passed since the previous round for
     * [name] began, so that a master that keeps failing is asked about at a bounded rate.
     */
    private suspend fun pace(
        starts: ConcurrentHashMap<String, Long>,
        name: String,
    ) {
        val interval = state.config.resolutionInterval.toNanos()
        val previous = starts[name]
        if (previous != null) {
            val wait = previous + interval - System.nanoTime()
            if (wait > 0) delay((wait + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI)
        }
        starts[name] = System.nanoTime()
    }

    private suspend fun <T> singleFlight(
        flights: ConcurrentHashMap<String, Deferred<T>>,
        key: String,
        block: suspend () -> T,
    ): T {
        // In Picket's own scope, so that one caller's cancellation does not cancel the round the others await.
        val flight =
            flights.computeIfAbsent(key) {
                scope.async(start = CoroutineStart.LAZY) { block() }.also { deferred ->
                    deferred.invokeOnCompletion { flights.remove(key, deferred) }
                }
            }
        flight.start()
        return flight.await()
    }

    private companion object {
        const val NANOS_PER_MILLI = 1_000_000L
    }
}
