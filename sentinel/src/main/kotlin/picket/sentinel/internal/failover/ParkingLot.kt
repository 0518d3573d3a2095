package picket.sentinel.internal.failover

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.FailoverInProgressException
import picket.core.FailoverOutcome
import picket.core.PicketEvent
import picket.core.internal.events.EventBus
import picket.sentinel.internal.resolution.GroupState
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap

private val log = KotlinLogging.logger {}

/**
 * The failovers of one group that their leader announced (`+selected-slave`), per master name: new master blocks
 * wait in [await] until [end] (the switch, the abort) or the group's parking timeout, whatever their command timeout.
 */
internal class ParkingLot(
    private val state: GroupState,
    private val bus: EventBus,
    private val scope: CoroutineScope,
) {
    /** The last `+new-epoch` each sentinel announced: a failover's leader announces its epoch before anything. */
    private val announcedEpochs = ConcurrentHashMap<Address, Long>()

    /** [sentinel] announced `+new-epoch` [epoch]. */
    fun newEpoch(
        sentinel: Address,
        epoch: Long,
    ) {
        announcedEpochs.merge(sentinel, epoch, ::maxOf)
    }

    /** Failovers in progress per master name. */
    private val parkings = ConcurrentHashMap<String, Parking>()

    /**
     * Parks [masterName] for a failover from [oldAddress] to [candidate] led by [sentinel]; false if parking is off
     * (economy mode hears one sentinel, which is seldom the leader) or that failover is already parked.
     */
    fun start(
        masterName: String,
        oldAddress: Address,
        candidate: Address,
        sentinel: Address,
    ): Boolean {
        val config = state.config
        if (!config.parkWrites || !config.subscribeToAll) return false
        val parking = Parking(oldAddress, candidate, sentinel, announcedEpochs[sentinel])
        if (parkings.putIfAbsent(masterName, parking) != null) return false
        log.info { "group ${state.name}: failover of $masterName $oldAddress -> $candidate led by $sentinel" }
        bus.emit(PicketEvent.FailoverStarted(state.name, masterName, oldAddress, candidate, sentinel, parking.epoch))
        scope.launch {
            delay(config.parkingTimeout.toMillis())
            end(masterName, FailoverOutcome.TIMED_OUT, null, parking)
        }
        return true
    }

    /** When the failover of [masterName] in progress started (System.nanoTime), if one is parked. */
    fun startedAt(masterName: String): Long? = parkings[masterName]?.startedAt

    /** A sentinel aborted a failover of [masterName] from [oldAddress]: ends the parking of that failover only. */
    fun aborted(
        masterName: String,
        oldAddress: Address,
    ) {
        val parking = parkings[masterName]?.takeIf { it.oldAddress == oldAddress } ?: return
        end(masterName, FailoverOutcome.ABORTED, null, parking)
    }

    /** The epoch of the failover of [masterName] in progress, if known. */
    fun epoch(masterName: String): Long? = parkings[masterName]?.epoch

    /** Ends the failover of [masterName] (if [expected], only that one): parked blocks go on or fail. */
    fun end(
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
     * Returns at once if no failover of [masterName] is in progress; else waits until it ends, and throws
     * [FailoverInProgressException] if it ended by timing out.
     *
     * The wait is bounded by the group's parking timeout alone, not by the block's command timeout: the parking ends
     * (as `TIMED_OUT`) that long after it started, so a block that arrives late in it waits what is left. A block's
     * commands get their full command timeout once it is released.
     */
    suspend fun await(masterName: String) {
        val parking = parkings[masterName] ?: return
        val since = System.nanoTime()
        parking.waiters.incrementAndGet()
        // The parking's own timer ends it; this bound only guards against a timer that did not run.
        val outcome = withTimeoutOrNull(state.config.parkingTimeout.toMillis()) { parking.outcome.await() }
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
}
