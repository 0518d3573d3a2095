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
 * @property onEvent told of every [ListEvent] from the very first, as a listener registered with
 *   [ListListener.registerListener] is from then on: on the listener's coroutine; should be fast and not throw.
 * @throws InvalidSpecException naming the first value out of range.
 */
public data class ListListenerOptions
    @JvmOverloads
    constructor(
        public val processingSuffix: String = DEFAULT_PROCESSING_SUFFIX,
        public val deadSuffix: String = DEFAULT_DEAD_SUFFIX,
        public val readTime: Duration = DEFAULT_READ_TIME,
        public val maxAttempts: Int = DEFAULT_MAX_ATTEMPTS,
        public val retryBackoff: Duration = DEFAULT_RETRY,
        public val reconnectMin: Duration = DEFAULT_RECONNECT_MIN,
        public val reconnectMax: Duration = DEFAULT_RECONNECT_MAX,
        public val onEvent: ListEventListener? = null,
    ) {
        /** The old form of these options' constructor, with a [ListSignalListener] given by name (`onSignal = …`). */
        @Suppress("DEPRECATION")
        @Deprecated("onSignal is renamed onEvent", ReplaceWith("ListListenerOptions(onEvent = onSignal)"))
        public constructor(
            onSignal: ListSignalListener,
            processingSuffix: String = DEFAULT_PROCESSING_SUFFIX,
            deadSuffix: String = DEFAULT_DEAD_SUFFIX,
            readTime: Duration = DEFAULT_READ_TIME,
            maxAttempts: Int = DEFAULT_MAX_ATTEMPTS,
            retryBackoff: Duration = DEFAULT_RETRY,
            reconnectMin: Duration = DEFAULT_RECONNECT_MIN,
            reconnectMax: Duration = DEFAULT_RECONNECT_MAX,
        ) : this(
            processingSuffix,
            deadSuffix,
            readTime,
            maxAttempts,
            retryBackoff,
            reconnectMin,
            reconnectMax,
            ListEventListener { onSignal.onSignal(it) },
        )

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

        /** These options with [listener] told of every event from the very first. */
        public fun onEvent(listener: ListEventListener): ListListenerOptions = copy(onEvent = listener)

        /** The old name of [onEvent]. */
        @Suppress("DEPRECATION")
        @Deprecated("Renamed onEvent", ReplaceWith("onEvent(listener)"))
        public fun onSignal(listener: ListSignalListener): ListListenerOptions =
            copy(onEvent = ListEventListener { listener.onSignal(it) })

        /** The old name of [onEvent], as a [ListSignalListener]. */
        @Suppress("DEPRECATION")
        @Deprecated("Renamed onEvent", ReplaceWith("onEvent"))
        public val onSignal: ListSignalListener?
            get() = onEvent?.let { listener -> ListSignalListener { listener.onEvent(it as ListEvent) } }

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
            const val DEFAULT_PROCESSING_SUFFIX = ":processing"
            const val DEFAULT_DEAD_SUFFIX = ":dead"
            val DEFAULT_READ_TIME: Duration = Duration.ofSeconds(1)
            const val DEFAULT_MAX_ATTEMPTS = 3
            val DEFAULT_RETRY: Duration = Duration.ofMillis(100)
            val DEFAULT_RECONNECT_MIN: Duration = Duration.ofMillis(100)
            val DEFAULT_RECONNECT_MAX: Duration = Duration.ofSeconds(5)
            const val MIN_READ_MS = 10L
        }
    }
