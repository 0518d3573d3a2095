package picket.mq

import org.HdrHistogram.Recorder
import java.time.Duration
import java.util.concurrent.atomic.AtomicLong

/**
 * A worker's figures since it started: handlings per outcome, and the distributions of the time from a message
 * falling due to its handler starting ([timeToHandler]) and of the handlers' running time ([handlingTime]).
 */
public data class WorkerMetrics(
    /** Handlings that returned [HandlerResult.Success]. */
    public val succeeded: Long,
    /** Handlings retried: [HandlerResult.Retry], an exception or an unknown result with attempts left. */
    public val retried: Long,
    /** Messages this worker dead-lettered. */
    public val deadLettered: Long,
    /** Handlings that threw. */
    public val exceptions: Long,
    /** Handlings that returned an unknown result. */
    public val unknownResults: Long,
    /** Handlings whose lease ended first (cancelled at the deadline, or taken over by the time of the ack). */
    public val leasesLost: Long,
    public val timeToHandler: Distribution,
    public val handlingTime: Distribution,
)

/** A distribution of durations (HdrHistogram, 3 significant digits): count, mean and percentiles. */
public data class Distribution(
    public val count: Long,
    public val mean: Duration,
    public val p50: Duration,
    public val p90: Duration,
    public val p99: Duration,
    public val max: Duration,
) {
    override fun toString(): String =
        "Distribution(count=$count, mean=${ms(mean)}, p50=${ms(p50)}, p90=${ms(p90)}, p99=${ms(p99)}, max=${ms(max)})"

    private fun ms(d: Duration) = "%.3f ms".format(java.util.Locale.ROOT, d.toNanos() / NANOS_PER_MS)

    private companion object {
        const val NANOS_PER_MS = 1e6
    }
}

/** The counters and histograms behind [WorkerMetrics]. */
internal class MetricsRecorder {
    val succeeded = AtomicLong()
    val retried = AtomicLong()
    val deadLettered = AtomicLong()
    val exceptions = AtomicLong()
    val unknownResults = AtomicLong()
    val leasesLost = AtomicLong()
    private val timeToHandler = Histogram()
    private val handlingTime = Histogram()

    fun timeToHandler(nanos: Long) = timeToHandler.record(nanos)

    fun handlingTime(nanos: Long) = handlingTime.record(nanos)

    fun snapshot(): WorkerMetrics =
        WorkerMetrics(
            succeeded.get(),
            retried.get(),
            deadLettered.get(),
            exceptions.get(),
            unknownResults.get(),
            leasesLost.get(),
            timeToHandler.distribution(),
            handlingTime.distribution(),
        )

    /** Nanoseconds, 3 significant digits; a recorder so that recording never blocks on a snapshot. */
    private class Histogram {
        private val recorder = Recorder(SIGNIFICANT_DIGITS)
        private val total = org.HdrHistogram.Histogram(SIGNIFICANT_DIGITS)

        fun record(nanos: Long) = recorder.recordValue(nanos.coerceAtLeast(0))

        @Synchronized
        fun distribution(): Distribution {
            total.add(recorder.intervalHistogram)
            return Distribution(
                total.totalCount,
                Duration.ofNanos(total.mean.toLong()),
                Duration.ofNanos(total.getValueAtPercentile(P50)),
                Duration.ofNanos(total.getValueAtPercentile(P90)),
                Duration.ofNanos(total.getValueAtPercentile(P99)),
                Duration.ofNanos(total.maxValue),
            )
        }
    }

    private companion object {
        const val SIGNIFICANT_DIGITS = 3
        const val P50 = 50.0
        const val P90 = 90.0
        const val P99 = 99.0
    }
}
