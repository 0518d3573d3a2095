package picket.bench

enum class Fault(
    val label: String,
) {
    MANUAL("manual SENTINEL FAILOVER"),
    KILL("kill -9 of the master"),
}

/**
 * One client's write loop through one failover. Times named "after the switch" are milliseconds after the first
 * `+switch-master` the benchmark saw (negative: before it); "after the fault" after `SENTINEL FAILOVER` was sent or
 * the master was killed.
 */
class ClientRun(
    val client: String,
    val writes: Int,
    val acknowledged: Int,
    /** Writes whose caller got an error. */
    val errors: Int,
    val errorTypes: Map<String, Int>,
    /**
     * From the fault to the first acknowledged write that the new master executed itself (not one it got by
     * replication from the old master); null if none came before the loops stopped, or if that could not be told
     * ([FailoverRun.directKnown]).
     */
    val faultToNewMs: Double?,
    /**
     * The same first write, in ms after the switch: negative if the client switched before the first
     * `+switch-master` (Picket acts on the leader's `+promoted-slave`). If [FailoverRun.directKnown] is false, the
     * first write acknowledged after the switch whose key is on the new master instead (never negative). Null if none.
     */
    val switchMs: Double?,
    /** Acknowledged writes that the old master executed (absent from the new master), relative to the switch. */
    val oldMaster: OldMasterWrites,
    /** Acknowledged (at any time) but absent from the new master after the run. */
    val lost: Int,
    /** The longest a single write took until its caller got an answer. */
    val slowestWriteMs: Double,
    /** What the client itself reported (Picket's events and status); null for Lettuce. */
    val picket: PicketView?,
    /** How long the write in flight when the loop stopped had been waiting (0 if none). */
    val pendingAtStopMs: Double,
    /** One message for each error class callers saw. */
    val sampleErrors: Map<String, String>,
)

/** Acknowledged writes absent from the new master after the run: executed by the old master, and lost. */
class OldMasterWrites(
    /** Acknowledged after the first `+switch-master`. */
    val afterSwitch: Int,
    /** Of those, issued after it too (the others were in flight when the switch was announced). */
    val issuedAfterSwitch: Int,
    /** When the last of them was acknowledged, ms after the switch (negative: before it); null if none. */
    val lastAckMs: Double?,
)

/** A client's own switch event: ms after the first `+switch-master`, and the sentinel acted on or "resolution". */
class ClientEvent(
    val ms: Double,
    val via: String,
)

/** What one Picket instance reported about itself during one run. */
class PicketView(
    /** Its first SwitchMaster event after the fault; null if none. */
    val switchEvent: ClientEvent?,
    /** Resolution rounds (asking the sentinels) it made during the run. */
    val resolutionRounds: Long,
    /** Its FailoverEnded events after the fault: when blocks were parked, how many, for how long. */
    val parkings: List<Parked>,
)

/** One FailoverEnded event of a Picket instance. */
class Parked(
    /** When parking ended, ms after the fault. */
    val endedMs: Double,
    /** How long blocks were parked (from the leader's `+selected-slave`), in ms. */
    val parkedForMs: Double,
    /** How many blocks waited. */
    val blocks: Int,
    /** SWITCHED, ABORTED or TIMED_OUT. */
    val outcome: String,
)

class FailoverRun(
    val fault: Fault,
    val index: Int,
    /** From the fault (command sent, process killed) to the first `+switch-master`. */
    val faultToSwitchMs: Double,
    /** The sentinel that published first, and how much later the last one did. */
    val firstSentinel: String,
    val lastSwitchMs: Double,
    val newMaster: String,
    /** When the write loops were stopped, ms after the fault: a first write after it was not seen. */
    val stoppedMs: Double,
    /**
     * Whether writes the new master executed itself could be told from those it got from the old master by
     * replication: always after a kill -9; after a manual failover only if the old master was still master (not yet
     * converted and resynced) when its keys were read, right after the loops stopped.
     */
    val directKnown: Boolean,
    /** Until the topology had settled (Topology.awaitMaster), from the fault. */
    val settledMs: Double,
    /** How long the sentinels took to fall quiet after settling, and whether they did within the limit. */
    val quietMs: Double,
    val quiet: Boolean,
    val clients: List<ClientRun>,
    /** Anything unexpected about the run, or null. */
    val note: String?,
)
