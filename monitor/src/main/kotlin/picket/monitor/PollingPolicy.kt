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
 * The seed's rule, every threshold tunable: after each poll, a node doing at least [busyOpsPerSecond]
 * `instantaneous_ops_per_sec` jumps to the minimum interval; one doing at most [idleOpsPerSecond] moves [step]
 * towards the maximum; in between it keeps its interval. A node that does not report the figure (a sentinel) is
 * treated as idle.
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
            val ops = info.opsPerSecond ?: 0
            return when {
                ops >= busyOpsPerSecond -> min
                ops <= idleOpsPerSecond -> minOf(current + step, max)
                else -> current
            }
        }

        override fun toString(): String =
            "ActivityPolicy(busy >= $busyOpsPerSecond ops/s, idle <= $idleOpsPerSecond ops/s, step $step)"
    }
