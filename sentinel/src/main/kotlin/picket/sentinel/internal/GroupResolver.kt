package picket.sentinel.internal

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
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.ConnSpec
import picket.core.FailoverInProgressException
import picket.core.FailoverOutcome
import picket.core.MasterDownException
import picket.core.MasterNameUnknownException
import picket.core.PicketEvent
import picket.core.SentinelsUnreachableException
import picket.sentinel.SentinelGroup
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
    private val switchLock = Any()

    /** Failovers in progress per master name, announced by their leader; see [failoverStarted]. */
    private val parkings = ConcurrentHashMap<String, Parking>()

    /** When the last round for each name started (System.nanoTime), for [pace]. */
    private val masterPace = ConcurrentHashMap<String, Long>()
    private val replicaPace = ConcurrentHashMap<String, Long>()

    /** The cached master of [masterName], or the answer of one resolution shared by every concurrent caller. */
    suspend fun master(masterName: String): MasterEntry =
        state.masters[masterName] ?: singleFlight(masterFlights, masterName) {
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
        state.masters[masterName]?.let { return it }
        val generation = state.generation(masterName)
        val (answer, sentinel) = askSentinels(masterName)
        val entry = MasterEntry(answer.address, sentinel, answer.configEpoch)
        val previous: Address?
        synchronized(switchLock) {
            // A switch during the round trip wins: its address is newer than this answer.
            if (state.generation(masterName) != generation) return state.masters[masterName] ?: entry
            previous = state.lastKnown.put(masterName, answer.address)
            state.masters[masterName] = entry
        }
        if (previous != null && previous != answer.address) {
            state.replicas.remove(masterName)
            connections.closeAll(previous)
            bus.emit(PicketEvent.SwitchMaster(state.name, masterName, previous, answer.address, null))
        }
        return entry
    }

    /** Asks the sentinels in order until one gives a usable answer for [masterName]. */
    suspend fun askSentinels(masterName: String): Pair<MasterAnswer, Address> {
        state.rounds.incrementAndGet()
        val failures = LinkedHashMap<Address, Throwable>()
        val unknown = mutableListOf<Address>()
        var flaggedDown: Address? = null
        for (sentinel in state.orderedSentinels()) {
            val answer =
                try {
                    queries.master(sentinel, state.config, masterName)
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    fail(failures, sentinel, masterName, e)
                    continue
                }
            val down = answer?.flags?.intersect(DOWN_FLAGS).orEmpty()
            when {
                answer == null -> {
                    unknown += sentinel
                }

                down.isNotEmpty() -> {
                    if (flaggedDown == null) flaggedDown = answer.address
                    val cause = IllegalStateException("flags master ${answer.address} ${down.sorted()}")
                    fail(failures, sentinel, masterName, cause)
                }

                else -> {
                    return accept(answer, sentinel)
                }
            }
        }
        unknown.forEach { failures[it] = IllegalStateException("does not monitor '$masterName'") }
        val error =
            when {
                failures.size == unknown.size -> MasterNameUnknownException(state.name, masterName, unknown)
                flaggedDown != null -> MasterDownException(state.name, masterName, flaggedDown, failures)
                else -> SentinelsUnreachableException(state.name, masterName, failures)
            }
        bus.emit(PicketEvent.ResolutionFailed(state.name, masterName, error))
        throw error
    }

    /** Takes [sentinel]'s usable answer: it becomes the first to ask, and the sentinels it knows are learnt. */
    private fun accept(
        answer: MasterAnswer,
        sentinel: Address,
    ): Pair<MasterAnswer, Address> {
        state.lastGood = sentinel
        val fresh = state.learn(sentinel, answer.otherSentinels)
        if (fresh.isNotEmpty()) {
            bus.emit(PicketEvent.SentinelsRefreshed(state.name, state.allSentinels()))
            onSentinelsLearnt(fresh)
        }
        return answer to sentinel
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

    /**
     * Acts on a `+switch-master` from [sentinel]: the cache takes the new address, connections to the old one are
     * closed at once, and one SwitchMaster event is emitted however many sentinels announce the same switch.
     */
    fun switchMaster(
        masterName: String,
        newAddress: Address,
        sentinel: Address?,
    ) {
        try {
            switchCache(masterName, newAddress, sentinel)
        } finally {
            // Only now: blocks parked during the failover must find the new master in the cache when they wake.
            endFailover(masterName, FailoverOutcome.SWITCHED, newAddress)
        }
    }

    private fun switchCache(
        masterName: String,
        newAddress: Address,
        sentinel: Address?,
    ) {
        val old: Address
        synchronized(switchLock) {
            val current = state.masters[masterName]?.address
            old = current ?: state.lastKnown[masterName] ?: return // never used here: nothing to switch
            if (current == newAddress || (current == null && old == newAddress)) return
            state.bump(masterName)
            state.masters[masterName] = MasterEntry(newAddress, sentinel, null)
            state.lastKnown[masterName] = newAddress
            state.replicas.remove(masterName)
        }
        val closed = connections.closeAll(old)
        log.info {
            "group ${state.name}: $masterName switched $old -> $newAddress (via $sentinel), closed $closed connections"
        }
        bus.emit(PicketEvent.SwitchMaster(state.name, masterName, old, newAddress, sentinel))
    }

    /**
     * The leader of a failover of [masterName] selected [candidate] (`+selected-slave`): new master blocks wait in
     * [awaitFailover] until [endFailover], at most the group's parking timeout. The candidate is connected to at once,
     * so that the first block after the switch does not pay for connecting.
     */
    fun failoverStarted(
        masterName: String,
        oldAddress: Address,
        candidate: Address,
        sentinel: Address,
    ) {
        val config = state.config
        if (!config.parkWrites || !config.subscribeToAll) return
        val parking = Parking(oldAddress, candidate, sentinel)
        if (parkings.putIfAbsent(masterName, parking) != null) return
        log.info { "group ${state.name}: failover of $masterName $oldAddress -> $candidate led by $sentinel" }
        bus.emit(PicketEvent.FailoverStarted(state.name, masterName, oldAddress, candidate, sentinel))
        scope.launch {
            delay(config.parkingTimeout.toMillis())
            endFailover(masterName, FailoverOutcome.TIMED_OUT, null, parking)
        }
        state.masters[masterName]?.verifiedWith?.let { key ->
            scope.launch { warm(key.copy(address = candidate)) }
        }
    }

    /**
     * The leader says [candidate] was promoted (`+promoted-slave`): once ROLE on it confirms, the switch happens
     * now, about 0.1 s before the other sentinels announce `+switch-master` and a second before the leader does.
     */
    fun promoted(
        masterName: String,
        candidate: Address,
        sentinel: Address,
    ) {
        val key = state.masters[masterName]?.verifiedWith ?: return // not used here: the announcements will do
        scope.launch {
            val role =
                try {
                    roleAt(key.copy(address = candidate))
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    log.debug { "ROLE on promoted $candidate failed: ${e.message}" }
                    return@launch
                }
            if (role == "master") switchMaster(masterName, candidate, sentinel)
        }
    }

    /** Ends the failover of [masterName] (if [expected], only that one): parked blocks go on or fail. */
    fun endFailover(
        masterName: String,
        outcome: FailoverOutcome,
        newAddress: Address?,
        expected: Parking? = null,
    ) {
        val parking =
            when {
                expected == null -> parkings.remove(masterName)
                parkings.remove(masterName, expected) -> expected
                else -> null
            } ?: return
        parking.outcome.complete(outcome)
        val parkedFor = Duration.ofNanos(System.nanoTime() - parking.startedAt)
        log.info { "group ${state.name}: failover of $masterName ended $outcome after ${parkedFor.toMillis()} ms" }
        bus.emit(
            PicketEvent.FailoverEnded(
                state.name,
                masterName,
                outcome,
                newAddress,
                parkedFor,
                parking.waiters.get(),
            ),
        )
    }

    /**
     * Returns at once if no failover of [masterName] is in progress; else waits until it ends, at most [limit] (or
     * what is left of the parking timeout), and throws [FailoverInProgressException] if it did not end in time or
     * ended by timing out.
     */
    suspend fun awaitFailover(
        masterName: String,
        limit: Duration,
    ) {
        val parking = parkings[masterName] ?: return
        val since = System.nanoTime()
        parking.waiters.incrementAndGet()
        val outcome = withTimeoutOrNull(limit.toMillis()) { parking.outcome.await() }
        if (outcome == null || outcome == FailoverOutcome.TIMED_OUT) {
            throw FailoverInProgressException(
                state.name,
                masterName,
                parking.oldAddress,
                parking.candidate,
                Duration.ofNanos(System.nanoTime() - since),
            )
        }
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
            try {
                val (answer, sentinel) = askSentinels(masterName)
                switchMaster(masterName, answer.address, sentinel)
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.debug { "re-validation of ${state.name}/$masterName failed: ${e.message}" }
            }
        }
    }

    /** Checks ROLE of every cached master and drops those that fail or are no longer master. */
    suspend fun removeInvalid(): List<PicketEvent.EntryInvalidated> =
        state.masters.entries.toList().mapNotNull { (masterName, entry) ->
            val reason =
                try {
                    val role = roleOf(entry)
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

    private suspend fun roleOf(entry: MasterEntry): String {
        val (key, connection) =
            connections.anyOpen(entry.address) ?: run {
                val key = entry.verifiedWith ?: DataConnections.Key(entry.address, null, null, 0, null, SWEEP_TIMEOUT)
                key to warm(key)
            }
        log.debug { "ROLE of ${entry.address} over $key" }
        return bounded(SWEEP_TIMEOUT, "ROLE on ${entry.address}") { roleOf(connection) }
    }

    /** ROLE of the node of [key], over the shared connection for [key]. */
    private suspend fun roleAt(key: DataConnections.Key): String {
        val connection = warm(key)
        return bounded(SWEEP_TIMEOUT, "ROLE on ${key.address}") { roleOf(connection) }
    }

    /** The shared connection for [key], connecting if needed, with short timeouts. */
    private suspend fun warm(key: DataConnections.Key) =
        connections.get(
            key,
            ConnSpec(
                host = key.address.host,
                port = key.address.port,
                username = key.username,
                password = key.password,
                database = key.database,
                clientName = key.clientName,
                connectTimeout = SWEEP_TIMEOUT,
                commandTimeout = key.commandTimeout,
            ),
        )

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
        val DOWN_FLAGS = setOf("s_down", "o_down")
        const val NANOS_PER_MILLI = 1_000_000L
        val SWEEP_TIMEOUT: Duration = Duration.ofSeconds(2)
    }
}
