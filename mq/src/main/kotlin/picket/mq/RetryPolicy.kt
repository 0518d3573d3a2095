package picket.mq

import picket.core.InvalidSpecException
import picket.core.internal.Backoff
import java.time.Duration
import kotlin.math.pow

/**
 * How failed deliveries are retried: at most [maxAttempts] deliveries of a message in all, then the dead-letter
 * list; between attempts, [initialBackoff] growing by [multiplier] per attempt up to [maxBackoff], each spread by up
 * to ±[jitter] (a fraction) so that retries of many messages do not land together.
 *
 * Applies to handlers that throw, to [HandlerResult.Retry] without a backoff of its own, and to unknown results; an
 * expired lease counts an attempt too.
 *
 * @throws InvalidSpecException if [maxAttempts] < 1, a backoff is negative, [maxBackoff] < [initialBackoff],
 *   [multiplier] < 1 or [jitter] is outside 0..1.
 */
public data class RetryPolicy
    @JvmOverloads
    constructor(
        public val maxAttempts: Int = DEFAULT_MAX_ATTEMPTS,
        public val initialBackoff: Duration = Duration.ofSeconds(1),
        public val maxBackoff: Duration = Duration.ofMinutes(5),
        public val multiplier: Double = 2.0,
        public val jitter: Double = DEFAULT_JITTER,
    ) {
        init {
            if (maxAttempts < 1) throw InvalidSpecException("maxAttempts is $maxAttempts, must be >= 1")
            if (initialBackoff.isNegative) throw InvalidSpecException("initialBackoff is $initialBackoff, must be >= 0")
            if (maxBackoff < initialBackoff) {
                throw InvalidSpecException("maxBackoff $maxBackoff is below initialBackoff $initialBackoff")
            }
            if (multiplier < 1.0) throw InvalidSpecException("backoff multiplier is $multiplier, must be >= 1")
            if (jitter !in 0.0..1.0) throw InvalidSpecException("jitter is $jitter, must be within 0..1")
        }

        /** The wait before the attempt after [attempt] (1-based), jitter included. */
        public fun backoff(attempt: Int): Duration {
            val base = initialBackoff.toMillis() * multiplier.pow((attempt - 1).coerceIn(0, MAX_EXPONENT))
            val capped = minOf(base, maxBackoff.toMillis().toDouble())
            return Duration.ofMillis(Backoff.jittered(capped.toLong(), jitter).coerceAtLeast(0))
        }

        public companion object {
            /** Five deliveries in all. */
            public const val DEFAULT_MAX_ATTEMPTS: Int = 5
            private const val DEFAULT_JITTER = 0.2
            private const val MAX_EXPONENT = 62
        }
    }
