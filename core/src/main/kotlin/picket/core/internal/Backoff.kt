package picket.core.internal

import kotlinx.coroutines.delay
import picket.core.InternalPicketApi
import java.time.Duration
import java.util.concurrent.ThreadLocalRandom

/**
 * For Picket's own modules: the capped exponential back-off that every retry loop uses. [next] gives the pause to take
 * now and doubles the one after, up to [maxMs]; [reset] after a success starts again from [initialMs]. With a
 * [jitter] j above 0, each pause is drawn uniformly from `pause × (1 ± j)`, so that many clients that failed together
 * do not retry together. One instance belongs to one loop: it is not thread-safe.
 *
 * ```kotlin
 * val backoff = Backoff(initialMs = 50, maxMs = 1_000)
 * while (isActive) {
 *     try { readOnce(); backoff.reset() } catch (e: RedisException) { backoff.pause() }
 * }
 * ```
 */
@InternalPicketApi
public class Backoff(
    private val initialMs: Long,
    private val maxMs: Long,
    private val jitter: Double = 0.0,
) {
    init {
        require(initialMs in 1..maxMs) { "back-off from $initialMs ms to $maxMs ms" }
        require(jitter in 0.0..1.0) { "jitter $jitter is outside 0..1" }
    }

    private var pauseMs = initialMs

    /** The pause the next [next] gives, without jitter. */
    public val upcomingMs: Long get() = pauseMs

    /** The pause to take now (jittered); the following one is twice as long, at most [maxMs]. */
    public fun next(): Long {
        val now = pauseMs
        pauseMs = (pauseMs * 2).coerceAtMost(maxMs)
        return jittered(now, jitter)
    }

    /** Suspends for [next]. */
    public suspend fun pause(): Unit = delay(next())

    /** Starts again from [initialMs]: after a success. */
    public fun reset() {
        pauseMs = initialMs
    }

    public companion object {
        private const val MAX_DOUBLINGS = 30

        /**
         * The pause after [failures] failures in a row (1 for the first), for loops that count failures rather than
         * hold a [Backoff]: [initialMs] doubled per failure after the first (30 times at most), at most [maxMs], then
         * jittered. Any unit will do (nanoseconds for sub-millisecond pauses), as long as both bounds are in it.
         */
        @JvmStatic
        public fun after(
            failures: Int,
            initialMs: Long,
            maxMs: Long,
            jitter: Double = 0.0,
        ): Long {
            val doublings = (failures - 1).coerceIn(0, MAX_DOUBLINGS)
            val pause = if (initialMs > maxMs shr doublings) maxMs else initialMs shl doublings
            return jittered(pause, jitter)
        }

        /**
         * [after] for [Duration]s, exact to the nanosecond, with at most [maxDoublings] doublings: the pause after
         * [failures] failures in a row, [initial] doubled per failure after the first, at most [max].
         */
        @JvmStatic
        public fun after(
            failures: Int,
            initial: Duration,
            max: Duration,
            maxDoublings: Int = MAX_DOUBLINGS,
        ): Duration = Duration.ofNanos(after(failures.coerceAtMost(maxDoublings + 1), initial.toNanos(), max.toNanos()))

        /** [ms] drawn uniformly from `ms × (1 ± jitter)`; [ms] itself without jitter. */
        @JvmStatic
        public fun jittered(
            ms: Long,
            jitter: Double,
        ): Long {
            if (jitter == 0.0 || ms <= 0) return ms
            return (ms * (1.0 + ThreadLocalRandom.current().nextDouble(-jitter, jitter))).toLong()
        }
    }
}
