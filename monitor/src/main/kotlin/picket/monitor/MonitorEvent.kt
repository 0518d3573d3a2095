package picket.monitor

import java.time.Duration
import java.time.Instant

/**
 * Something the monitor saw or suffered, delivered in order to its listeners ([Monitor.registerListener]) and as a
 * flow ([Monitor.events]). Registry changes are [RegistryEvent]s, on the [NodeRegistry].
 */
public sealed class MonitorEvent {
    /** When it happened. */
    public val at: Instant = Instant.now()

    /**
     * [node] failed [MonitorOptions.failureGrace] polls in a row: it is down. Its last good INFO stays queryable, with
     * its growing age.
     */
    public data class NodeDown(
        public val node: MonitoredNode,
        /** The last poll's error, e.g. "connection refused". */
        public val error: String,
        /** The first of the failed polls. */
        public val failingSince: Instant,
    ) : MonitorEvent()

    /** A node that was down answered again. */
    public data class NodeUp(
        public val node: MonitoredNode,
        /** From its first failed poll to this success. */
        public val downFor: Duration,
    ) : MonitorEvent()

    /** Something died that should not have; the supervisor hook gets these too. */
    public sealed class Failure : MonitorEvent() {
        /** What failed. */
        public abstract val error: Throwable
    }

    /**
     * A watcher's [NodeWatcher.watch] threw: the nodes it reported stay, and it runs again after [restartIn] (capped
     * backoff, like a node's).
     */
    public data class WatcherFailed(
        public val watcher: NodeWatcher,
        override val error: Throwable,
        public val restartIn: Duration,
    ) : Failure()

    /**
     * The poller of [node] failed outside a poll (the [PollingPolicy] threw, for instance): it keeps polling with the
     * interval it had.
     */
    public data class PollerFailed(
        public val node: MonitoredNode,
        override val error: Throwable,
    ) : Failure()
}

/** Receives [MonitorEvent]s. Must be fast and must not throw; one that throws is logged. */
public fun interface MonitorListener {
    /** Called for each event, in order. */
    public fun onEvent(event: MonitorEvent)
}
