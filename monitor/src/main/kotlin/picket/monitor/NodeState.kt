package picket.monitor

import java.time.Duration
import java.time.Instant

/**
 * What the monitor knows of one node now (the seed's `RedisShard`): its latest good INFO and that INFO's age, its
 * reachability and its polling interval. A snapshot: it does not change.
 *
 * @property node the node, as the registry describes it.
 * @property info the latest good INFO, or null if no poll has succeeded yet.
 * @property infoAt when [info] was received (wall clock), or null.
 * @property infoAge how old [info] is at the moment of the snapshot (monotonic clock), or null.
 * @property interval the node's current polling interval.
 * @property lastError the last failed poll's error, or null if the last poll succeeded.
 * @property failingSince the first of the current run of failed polls, or null.
 * @property consecutiveFailures failed polls since the last success.
 * @property down whether the node is declared down: at least [MonitorOptions.failureGrace] failures in a row.
 * @property polls successful polls since the node was added.
 * @property command the INFO argument the node is polled with: `everything`, or `all` where the server lacks it or
 *   refuses it.
 * @property retryIn after a failed poll, the wait before the next attempt: [MonitorOptions.coolOff] doubled per
 *   consecutive failure, capped at [MonitorOptions.maxBackoff]; null while the last poll succeeded.
 */
public data class NodeState(
    public val node: MonitoredNode,
    public val info: NodeInfo?,
    public val infoAt: Instant?,
    public val infoAge: Duration?,
    public val interval: Duration,
    public val lastError: String?,
    public val failingSince: Instant?,
    public val consecutiveFailures: Int,
    public val down: Boolean,
    public val polls: Long,
    public val command: String,
    public val retryIn: Duration? = null,
) {
    /** The node's id, `host:port`. */
    public val id: String get() = node.id
}
