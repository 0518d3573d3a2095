package picket.monitor

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * Decides a node's next polling interval from its latest INFO. The monitor keeps the answer within
 * [MonitorOptions.minInterval] and [MonitorOptions.maxInterval]. Replace [ActivityPolicy] with your own rule; one
 * that throws is reported ([MonitorEvent.PollerFailed]) and the node keeps its interval.
 */
public fun interface PollingPolicy {
    /** The interval after a successful poll that returned [info], given the [current] one and the bounds. */
    public fun next(
        current: Duration,
        info: NodeInfo,
        min: Duration,
        max: Duration,
    ): Duration
}

/**
 * The seed's rule, every threshold tunable: after each poll, a node doing at least [busyOpsPerSecond] operations per
 * second jumps to the minimum interval; one doing at most [idleOpsPerSecond] moves [step] towards the maximum; in
 * between it keeps its interval. A node that does not report the figure (a sentinel) is treated as idle.
 *
 * The operations counted are [activity]: `instantaneous_ops_per_sec`, less the share of the node's input that came
 * through replication. A replica counts the writes it applies from its master in `instantaneous_ops_per_sec` (about
 * as many as the master does), so under the seed's plain figure a replica nobody reads from is as "busy" as its
 * master; the master is already polled often for that activity. Redis 7 reports the replication part of its input
 * (`instantaneous_input_repl_kbps`, within `instantaneous_input_kbps`); older servers do not, and there the figure
 * is the seed's. [countReplication] = true takes the seed's figure everywhere.
 *
 * @throws InvalidSpecException if a threshold is negative, [idleOpsPerSecond] is above [busyOpsPerSecond], or [step]
 *   is not positive.
 */
public class ActivityPolicy
    @JvmOverloads
    constructor(
        public val busyOpsPerSecond: Long = 10,
        public val idleOpsPerSecond: Long = 5,
        public val step: Duration = Duration.ofMillis(500),
        public val countReplication: Boolean = false,
    ) : PollingPolicy {
        init {
            if (idleOpsPerSecond < 0) throw InvalidSpecException("idleOpsPerSecond is $idleOpsPerSecond, must be >= 0")
            if (busyOpsPerSecond < idleOpsPerSecond) {
                throw InvalidSpecException(
                    "busyOpsPerSecond ($busyOpsPerSecond) is below idleOpsPerSecond ($idleOpsPerSecond)",
                )
            }
            if (step.isNegative || step.isZero) throw InvalidSpecException("activity step is $step, must be > 0")
        }

        override fun next(
            current: Duration,
            info: NodeInfo,
            min: Duration,
            max: Duration,
        ): Duration {
            val ops = activity(info)
            return when {
                ops >= busyOpsPerSecond -> min
                ops <= idleOpsPerSecond -> minOf(current + step, max)
                else -> current
            }
        }

        /** The operations per second this rule counts for [info]; see the class documentation. */
        public fun activity(info: NodeInfo): Double {
            val ops = info.double("instantaneous_ops_per_sec") ?: return 0.0
            if (countReplication) return ops
            // instantaneous_input_kbps includes the replication input, which is also reported alone.
            val input = info.double("instantaneous_input_kbps") ?: return ops
            val replication = info.double("instantaneous_input_repl_kbps") ?: return ops
            return if (input <= 0.0) ops else ops * (input - replication).coerceAtLeast(0.0) / input
        }

        override fun toString(): String =
            "ActivityPolicy(busy >= $busyOpsPerSecond ops/s, idle <= $idleOpsPerSecond ops/s, step $step, " +
                "countReplication=$countReplication)"
    }
