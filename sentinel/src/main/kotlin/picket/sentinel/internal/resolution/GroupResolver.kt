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
import picket.core.SentinelsUnreachableException
import picket.sentinel.SentinelGroup
import picket.sentinel.internal.connections.DataConnections
import picket.sentinel.internal.connections.bounded
import picket.sentinel.internal.events.EventBus
import picket.sentinel.internal.failover.LossWatch
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
    private val switchLock = Any()

    /** Replication marks of acknowledged blocks, checked against the new master after a switch. */
    val lossWatch = LossWatch(scope, bus)

    /** Failovers announced by their leader, during which new master blocks wait. */
    val parking = ParkingLot(state, bus, scope)

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

    /**
     * Acts on a `+switch-master` from [sentinel]: the cache takes the new address, connections to the old one are
     * closed at once, and one SwitchMaster event is emitted however many sentinels announce the same switch.
     */
    fun switchMaster(
        masterName: String,
        newAddress: Address,
        sentinel: Address?,
        epoch: Long? = null,
    ) {
        try {
            switchCache(masterName, newAddress, sentinel, epoch)
        } finally {
            // Only now: blocks parked during the failover must find the new master in the cache when they wake.
            parking.end(masterName, FailoverOutcome.SWITCHED, newAddress)
        }
    }

    private fun switchCache(
        masterName: String,
        newAddress: Address,
        sentinel: Address?,
        epoch: Long?,
    ) {
        val old: Address
        val oldEntry: MasterEntry?
        synchronized(switchLock) {
            val currentEntry = state.masters[masterName]
            val current = currentEntry?.address
            old = current ?: state.lastEntries[masterName]?.address ?: return // never used here: nothing to switch
            if (current == newAddress || (current == null && old == newAddress)) {
                // The same switch announced again: a sentinel that announces it has switched itself, so its
                // SENTINEL MASTER gives the epoch for certain. Asked once per entry.
                if (sentinel != null && epoch == null) confirmEpoch(currentEntry, sentinel, masterName)
                return
            }
            oldEntry = state.lastEntries[masterName]?.takeIf { it.address == old }
            state.bump(masterName)
            // An epoch given here is the failover's (the leader's +new-epoch): shown, but followed only once a
            // sentinel that switched confirms it, since a sentinel's +new-epoch can also be a vote for another
            // master's failover, and following too high an epoch would reject every answer after.
            val entry = MasterEntry(newAddress, sentinel, epoch)
            entry.switchedAt = System.nanoTime()
            entry.failoverStartedAt = parking.startedAt(masterName)
            state.cache(masterName, entry)
            state.replicas.remove(masterName)
        }
        val closed = connections.closeAll(old)
        log.info {
            "group ${state.name}: $masterName switched $old -> $newAddress (via $sentinel), closed $closed connections"
        }
        if (oldEntry != null && state.config.lossDetection) checkLoss(masterName, oldEntry, newAddress)
        if (epoch != null) {
            bus.emit(PicketEvent.SwitchMaster(state.name, masterName, old, newAddress, sentinel, epoch))
            return
        }
        // +switch-master carries no epoch: ask its sentinel, off the switch's path, then tell listeners.
        scope.launch {
            val asked = sentinel?.let { epochOf(it, masterName, newAddress) }
            bus.emit(PicketEvent.SwitchMaster(state.name, masterName, old, newAddress, sentinel, asked))
        }
    }

    /**
     * The leader of a failover of [masterName] selected [candidate] (`+selected-slave`): new master blocks wait in
     * [ParkingLot.await] until [ParkingLot.end], at most the group's parking timeout. The candidate is connected to
     * at once, so that the first block after the switch does not pay for connecting.
     */
    fun failoverStarted(
        masterName: String,
        oldAddress: Address,
        candidate: Address,
        sentinel: Address,
    ) {
        val known = state.known(masterName)
        if (known != null && known != oldAddress) {
            // A failover of another master of that name (another deployment, or an announcement from before the
            // last switch): nothing of Picket's waits for it.
            log.info { "group ${state.name}: failover of $masterName from $oldAddress ignored: Picket follows $known" }
            return
        }
        if (!parking.start(masterName, oldAddress, candidate, sentinel)) return
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
        oldAddress: Address,
        candidate: Address,
        sentinel: Address,
    ) {
        // Only a promotion that replaces the cached, verified master; otherwise the announcements will do.
        val key = state.masters[masterName]?.takeIf { it.address == oldAddress }?.verifiedWith ?: return
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
            // The master's new config-epoch is the failover's epoch: the leader's last +new-epoch.
            if (role == "master") switchMaster(masterName, candidate, sentinel, parking.epoch(masterName))
        }
    }

    /** Asks [sentinel] once for [entry]'s config-epoch, off the switch's path. */
    private fun confirmEpoch(
        entry: MasterEntry?,
        sentinel: Address,
        masterName: String,
    ) {
        if (entry == null || !entry.epochAsked.compareAndSet(false, true)) return
        scope.launch { epochOf(sentinel, masterName, entry.address) }
    }

    /** Compares, off the switch's path, what [oldEntry] acknowledged with what [newAddress] has of its stream. */
    private fun checkLoss(
        masterName: String,
        oldEntry: MasterEntry,
        newAddress: Address,
    ) {
        val key = oldEntry.verifiedWith ?: return
        scope.launch {
            try {
                lossWatch.check(state.name, masterName, oldEntry, newAddress, warm(key.copy(address = newAddress)))
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.warn { "group ${state.name}: could not check $newAddress for lost writes: ${e.message}" }
            }
        }
    }

    /**
     * The config-epoch [sentinel] gives for [masterName] if it names [address], recorded as followed; null if it
     * cannot say.
     */
    private suspend fun epochOf(
        sentinel: Address,
        masterName: String,
        address: Address,
    ): Long? {
        val answer =
            try {
                queries.master(sentinel, state.config, masterName)
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.debug { "config-epoch of $masterName from $sentinel: ${e.message}" }
                null
            }
        val epoch = answer?.takeIf { it.address == address }?.configEpoch ?: return null
        state.followEpoch(masterName, epoch)
        state.masters[masterName]?.takeIf { it.address == address }?.configEpoch = epoch
        return epoch
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
                // Never verified (a switch made it): the credentials and TLS a block of this group used last.
                val template =
                    (state.masters.values + state.lastEntries.values).firstNotNullOfOrNull { it.verifiedWith }
                val key =
                    entry.verifiedWith ?: template?.copy(address = entry.address) ?: DataConnections.Key(
                        entry.address,
                        null,
                        null,
                        0,
                        null,
                        SWEEP_TIMEOUT,
                        mapper = state.config.addressMapper,
                    )
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
        const val NANOS_PER_MILLI = 1_000_000L
        val SWEEP_TIMEOUT: Duration = Duration.ofSeconds(2)
    }
}
