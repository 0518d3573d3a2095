package picket.mq

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * How a [ListListener] names its lists, waits, retries and reconnects.
 *
 * @property processingSuffix appended to the list's name: the processing list holding messages being handled
 *   (TwiceRedis's `processing_suffix`). Listeners sharing a list should each have a suffix of their own, stable across
 *   restarts: start-up recovery handles everything in its processing list (mq/README.md says why).
 * @property deadSuffix appended to the list's name: where messages go whose handler failed [maxAttempts] times.
 * @property readTime how long one blocking read waits for a message (TwiceRedis's `read_time`); must be below the
 *   spec's command timeout, so that an idle read never times out; [ListListener.stop] ends [ListListener.listen]
 *   within it.
 * @property maxAttempts handler runs per message before it is dead-lettered.
 * @property retryBackoff the wait before a message's second run; it doubles per attempt.
 * @property reconnectMin the first wait after Redis failed; it doubles up to [reconnectMax], for as long as it lasts.
 * @property reconnectMax the longest wait between two attempts while Redis is down.
 * @property onSignal told of every [ListSignal], on the listener's coroutine; should be fast and not throw.
 * @throws InvalidSpecException naming the first value out of range.
 */
public data class ListListenerOptions
    @JvmOverloads
    constructor(
        public val processingSuffix: String = ":processing",
        public val deadSuffix: String = ":dead",
        public val readTime: Duration = Duration.ofSeconds(1),
        public val maxAttempts: Int = DEFAULT_MAX_ATTEMPTS,
        public val retryBackoff: Duration = Duration.ofMillis(DEFAULT_RETRY_MS),
        public val reconnectMin: Duration = Duration.ofMillis(DEFAULT_RECONNECT_MIN_MS),
        public val reconnectMax: Duration = Duration.ofSeconds(DEFAULT_RECONNECT_MAX_S),
        public val onSignal: ListSignalListener? = null,
    ) {
        init {
            if (processingSuffix.isEmpty()) throw InvalidSpecException("processingSuffix is empty")
            if (deadSuffix.isEmpty()) throw InvalidSpecException("deadSuffix is empty")
            if (processingSuffix == deadSuffix) throw InvalidSpecException("processingSuffix and deadSuffix are equal")
            if (readTime.toMillis() < MIN_READ_MS) throw InvalidSpecException("readTime is $readTime, must be >= 10 ms")
            if (maxAttempts < 1) throw InvalidSpecException("list listener maxAttempts is $maxAttempts, must be >= 1")
            if (retryBackoff.isNegative) throw InvalidSpecException("retryBackoff is $retryBackoff, must be >= 0")
            if (reconnectMin.isNegative || reconnectMin.isZero) {
                throw InvalidSpecException("reconnectMin is $reconnectMin, must be > 0")
            }
            if (reconnectMax < reconnectMin) {
                throw InvalidSpecException("reconnectMax $reconnectMax is below reconnectMin $reconnectMin")
            }
        }

        /** These options with [listener] told of every signal. */
        public fun onSignal(listener: ListSignalListener): ListListenerOptions = copy(onSignal = listener)

        /** These options with [suffix] for the processing list. */
        public fun processingSuffix(suffix: String): ListListenerOptions = copy(processingSuffix = suffix)

        /** These options reading for at most [readTime] at a time. */
        public fun readTime(readTime: Duration): ListListenerOptions = copy(readTime = readTime)

        /** These options running a failing handler [attempts] times, [backoff] doubling in between. */
        public fun retries(
            attempts: Int,
            backoff: Duration,
        ): ListListenerOptions = copy(maxAttempts = attempts, retryBackoff = backoff)

        private companion object {
            const val DEFAULT_MAX_ATTEMPTS = 3
            const val DEFAULT_RETRY_MS = 100L
            const val DEFAULT_RECONNECT_MIN_MS = 100L
            const val DEFAULT_RECONNECT_MAX_S = 5L
            const val MIN_READ_MS = 10L
        }
    }

/** What a [ListListener] tells of itself. */
public sealed class ListSignal {
    /** Start-up (or after Redis failed) recovery found [count] messages in the processing list and handled them. */
    public data class Recovered(
        val count: Int,
    ) : ListSignal()

    /** The handler failed on [message] (attempt [attempt]) with [error]; it runs again after [backoff]. */
    public data class Retrying(
        val message: String,
        val attempt: Int,
        val error: Throwable,
        val backoff: Duration,
    ) : ListSignal()

    /** The handler failed on [message] [attempts] times; the message was moved to [deadList]. */
    public data class DeadLettered(
        val message: String,
        val attempts: Int,
        val error: Throwable,
        val deadList: String,
    ) : ListSignal()

    /** Redis failed ([cause], the [failures]th time in a row); the listener tries again after [retryIn]. */
    public data class ConnectionFailed(
        val cause: Throwable,
        val failures: Int,
        val retryIn: Duration,
    ) : ListSignal()

    /** Redis answers again after [failures] failures over [downFor]. */
    public data class Reconnected(
        val failures: Int,
        val downFor: Duration,
    ) : ListSignal()
}

/** Told of a [ListListener]'s signals. */
public fun interface ListSignalListener {
    /** Called for each [signal], in order. */
    public fun onSignal(signal: ListSignal)
}
