package picket.core

import java.time.Instant

/**
 * Something the resolver did or saw, delivered in order to registered listeners and as a `Flow`. Listeners must be
 * fast and must not throw; one that throws is logged and does not stop the others. No event carries a password.
 */
public sealed class PicketEvent {
    /** When it happened. */
    public val at: Instant = Instant.now()

    /** The sentinel group concerned, or null for direct specs. */
    public abstract val group: String?

    /** A master name was resolved by asking the sentinels and verified with ROLE. */
    public data class MasterResolved(
        override val group: String,
        public val masterName: String,
        public val address: Address,
        /** The sentinel that answered. */
        public val sentinel: Address,
        /** Sentinel's `config-epoch` for the master in that answer, or null if it gave none. */
        public val configEpoch: Long? = null,
    ) : PicketEvent()

    /** A replica was chosen for a block among the healthy ones. */
    public data class ReplicaResolved(
        override val group: String,
        public val masterName: String,
        public val address: Address,
        /** The healthy replicas the balancer chose from. */
        public val candidates: List<Address>,
    ) : PicketEvent()

    /**
     * A master name moved to another node (`+switch-master` from a sentinel, or a resolution that found a new
     * master). Emitted once per switch, however many sentinels announce it.
     */
    public data class SwitchMaster(
        override val group: String,
        public val masterName: String,
        /** The master before the switch, or null if none was cached. */
        public val oldAddress: Address?,
        public val newAddress: Address,
        /** The sentinel whose announcement was acted on, or null if a resolution found it. */
        public val sentinel: Address?,
        /**
         * Sentinel's `config-epoch` for the new master (asked of [sentinel] right after an announcement), or null if
         * it could not be learnt.
         */
        public val configEpoch: Long? = null,
    ) : PicketEvent()

    /** One sentinel failed while resolving or subscribing; the next one is tried. */
    public data class SentinelError(
        override val group: String,
        public val sentinel: Address,
        /** The master name being resolved, or null for subscription errors. */
        public val masterName: String?,
        public val cause: Throwable,
    ) : PicketEvent()

    /** A resolution failed as a whole, after the [SentinelError]s of each sentinel. */
    public data class ResolutionFailed(
        override val group: String,
        public val masterName: String,
        public val cause: PicketException,
    ) : PicketEvent()

    /** The group's list of sentinels was refreshed from `SENTINEL sentinels`. */
    public data class SentinelsRefreshed(
        override val group: String,
        public val sentinels: List<Address>,
    ) : PicketEvent()

    /** A cached master was dropped: the next block resolves it again. */
    public data class EntryInvalidated(
        override val group: String,
        public val masterName: String,
        public val address: Address,
        public val reason: String,
    ) : PicketEvent()

    /**
     * A replica that Sentinel lists as healthy answered a read with a state that keeps it from serving (`LOADING`
     * after a restart or full sync, `MASTERDOWN`): it is passed over for about a second, and the read runs on another
     * replica or, where the spec allows, the master. Emitted each time a read meets such a state.
     */
    public data class ReplicaPassedOver(
        override val group: String,
        public val masterName: String,
        public val address: Address,
        /** The replica's error reply, e.g. `LOADING Redis is loading the dataset in memory`. */
        public val reply: String,
    ) : PicketEvent()

    /** The event subscription to a sentinel was lost; it is being re-established with backoff. */
    public data class SubscriptionLost(
        override val group: String,
        public val sentinel: Address,
        public val cause: Throwable,
    ) : PicketEvent()

    /**
     * The event subscription to a sentinel is (again) established. After a loss, every cached master of the group
     * is re-validated, since announcements may have been missed.
     */
    public data class Subscribed(
        override val group: String,
        public val sentinel: Address,
        /** False for the first subscription, true after a loss. */
        public val resubscribed: Boolean,
    ) : PicketEvent()

    /**
     * The sentinel leading a failover of [masterName] announced the replica it promotes (`+selected-slave`): from
     * now on new blocks on that master wait (are parked) until the switch, the failover's abort, or the parking
     * timeout, instead of writing to a master that is about to be demoted.
     */
    public data class FailoverStarted(
        override val group: String,
        public val masterName: String,
        /** The master being failed over, as the leader names it. */
        public val oldAddress: Address,
        /** The replica being promoted. */
        public val candidate: Address,
        /** The sentinel leading the failover. */
        public val sentinel: Address,
        /** The failover's epoch (the leader's last `+new-epoch`), the new master's config-epoch; null if unheard. */
        public val epoch: Long? = null,
    ) : PicketEvent()

    /** A failover announced by [FailoverStarted] ended for Picket: parked blocks go on, or fail if it timed out. */
    public data class FailoverEnded(
        override val group: String,
        public val masterName: String,
        public val outcome: FailoverOutcome,
        /** The new master if [outcome] is [FailoverOutcome.SWITCHED], else null. */
        public val newAddress: Address?,
        /** How long blocks were parked, from [FailoverStarted] on. */
        public val parkedFor: java.time.Duration,
        /** How many blocks waited. */
        public val parkedBlocks: Int,
    ) : PicketEvent()

    /**
     * A `+switch-master` from [sentinel] that did not start from the cached master was checked with the sentinels,
     * who name [named] instead of [newAddress]: a late announcement of an earlier failover, or one of another
     * deployment; it was not followed.
     */
    public data class SwitchIgnored(
        override val group: String,
        public val masterName: String,
        public val sentinel: Address,
        public val oldAddress: Address,
        public val newAddress: Address,
        public val named: Address,
    ) : PicketEvent()

    /**
     * The first block succeeded on a master that replaced another (a switch): from here on, blocks of this process
     * run on the new master. Emitted once per switch.
     */
    public data class NewMasterServing(
        override val group: String,
        public val masterName: String,
        public val address: Address,
        /** From the switch of Picket's cache to this block's success. */
        public val sinceSwitch: java.time.Duration,
        /** From the failover leader's `+selected-slave` (if Picket parked for it), or null. */
        public val sinceFailoverStart: java.time.Duration?,
    ) : PicketEvent()

    /**
     * After a switch, acknowledged writes cannot all be on the new master: the new master took over the old
     * master's replication stream at an offset below the one Picket saw after its last acknowledged write there.
     * Those writes are lost once the old master is converted to a replica (or stays dead). The honest answer where
     * other clients say nothing.
     */
    public data class DataLossSuspected(
        override val group: String,
        public val masterName: String,
        public val oldAddress: Address,
        public val newAddress: Address,
        /**
         * Bytes of the old master's replication stream, after its last acknowledged write, that the new master does
         * not have; null if it cannot be told (the new master's stream is not a continuation of the old one).
         */
        public val gapBytes: Long?,
        public val reason: String,
    ) : PicketEvent()
}

/** How a failover that parked blocks ended. */
public enum class FailoverOutcome {
    /** The promotion was confirmed (the leader's `+promoted-slave` checked with ROLE, or a `+switch-master`). */
    SWITCHED,

    /** The leader aborted the failover (`-failover-abort-*`): the master is unchanged. */
    ABORTED,

    /** Neither happened within the group's parking timeout: parked blocks failed with FailoverInProgressException. */
    TIMED_OUT,
}
