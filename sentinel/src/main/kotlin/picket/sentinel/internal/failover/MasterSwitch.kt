package picket.sentinel.internal.failover

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.FailoverOutcome
import picket.core.PicketEvent
import picket.core.internal.connections.DataConnections
import picket.core.internal.events.EventBus
import picket.core.internal.unlessCancelled
import picket.sentinel.internal.resolution.GroupState
import picket.sentinel.internal.resolution.MasterEntry
import picket.sentinel.internal.resolution.NodeChecks
import picket.sentinel.internal.resolution.SentinelQueries

private val log = KotlinLogging.logger {}

/**
 * Switches one group's cached masters: on `+switch-master`, on the leader's `+promoted-slave` confirmed with ROLE,
 * and when a re-validation finds a switch that was missed; and starts parking on the leader's `+selected-slave`.
 * A switch closes every connection to the old master, checks for lost writes and ends parking.
 */
internal class MasterSwitch(
    private val state: GroupState,
    private val queries: SentinelQueries,
    private val connections: DataConnections,
    private val bus: EventBus,
    private val scope: CoroutineScope,
    private val parking: ParkingLot,
    private val lossWatch: LossWatch,
    private val checks: NodeChecks,
) {
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
        synchronized(state.switchLock) {
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
            scope.launch { checks.warm(key.copy(address = candidate)) }
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
                unlessCancelled({ e ->
                    log.debug { "ROLE on promoted $candidate failed: ${e.message}" }
                    return@launch
                }) { checks.roleAt(key.copy(address = candidate)) }
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
            unlessCancelled({ e ->
                log.warn { "group ${state.name}: could not check $newAddress for lost writes: ${e.message}" }
            }) {
                val connection = checks.warm(key.copy(address = newAddress))
                lossWatch.check(state.name, masterName, oldEntry, newAddress, connection)
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
            unlessCancelled({ e ->
                log.debug { "config-epoch of $masterName from $sentinel: ${e.message}" }
                null
            }) { queries.master(sentinel, state.config, masterName) }
        val epoch = answer?.takeIf { it.address == address }?.configEpoch ?: return null
        state.followEpoch(masterName, epoch)
        state.masters[masterName]?.takeIf { it.address == address }?.configEpoch = epoch
        return epoch
    }
}
