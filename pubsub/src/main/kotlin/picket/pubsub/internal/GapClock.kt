package picket.pubsub.internal

import java.time.Instant

/**
 * Gap reporting: where the window of possibly missed messages of the next [picket.pubsub.PubSubEvent.Resumed]
 * starts. That is the last moment the connection was known to deliver (the send time of its last PING answered, or
 * of its SUBSCRIBE), or the moment a failover of its master was announced, if that is earlier: a promoted replica
 * takes publishes before the old master stops answering.
 */
internal class GapClock {
    @Volatile
    private var lastVerifiedAt: Instant = Instant.now()

    @Volatile
    private var failoverStartedAt: Instant? = null

    /** Everything published before [at] had arrived (a PING sent then was answered). */
    fun verified(at: Instant) {
        lastVerifiedAt = at
    }

    /**
     * A new connection's SUBSCRIBE was sent at [at]: everything published after it arrives, and a failover announced
     * before it bounds no later gap.
     */
    fun subscribed(at: Instant) {
        lastVerifiedAt = at
        failoverStartedAt = null
    }

    /** A failover of the listener's master was announced now. */
    fun failoverStarted() {
        failoverStartedAt = Instant.now()
    }

    /** The failover announced was aborted or timed out: it moved nothing and bounds no later gap. */
    fun failoverAborted() {
        failoverStartedAt = null
    }

    /** Where the gap starts for a connection given up now. */
    fun gapStart(): Instant {
        val startedAt = failoverStartedAt
        val verifiedAt = lastVerifiedAt
        return if (startedAt != null && startedAt < verifiedAt) startedAt else verifiedAt
    }
}
