package picket.pubsub

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * How a [PubSubListener] buffers, watches its connection and reconnects.
 *
 * @property bufferSize messages received but not yet handled, at most.
 * @property overflow what happens when the buffer is full.
 * @property pingInterval how often the subscriber connection is PINGed: a paused or partitioned node never closes
 *   the socket, so liveness is checked, within `pingInterval + pingTimeout`.
 * @property pingTimeout how long a PING may take before the connection is given up and replaced.
 * @property reconnectMin the first wait after a failed reconnect; it doubles up to [reconnectMax]. A switch of
 *   the master cuts a wait short.
 * @property reconnectMax the longest wait between two reconnect attempts; they go on while the listener is open.
 * @property onSignal told of every [PubSubSignal], on the listener's own coroutine; it should not block.
 * @property inlineHandler sees every message first, on the connection's I/O thread, before it is buffered, and may
 *   take it (see [InlineHandler]); null (the default): every message is buffered for its handler.
 * @throws InvalidSpecException if a size or duration is not positive, or [reconnectMax] < [reconnectMin].
 */
public class ListenerOptions
    @JvmOverloads
    constructor(
        public val bufferSize: Int = DEFAULT_BUFFER_SIZE,
        public val overflow: Overflow = Overflow.SUSPEND,
        public val pingInterval: Duration = Duration.ofSeconds(1),
        public val pingTimeout: Duration = Duration.ofSeconds(1),
        public val reconnectMin: Duration = Duration.ofMillis(DEFAULT_RECONNECT_MIN_MS),
        public val reconnectMax: Duration = Duration.ofSeconds(2),
        public val onSignal: SignalListener? = null,
        public val inlineHandler: InlineHandler? = null,
    ) {
        init {
            if (bufferSize < 1) throw InvalidSpecException("listener bufferSize is $bufferSize, must be >= 1")
            positive("pingInterval", pingInterval)
            positive("pingTimeout", pingTimeout)
            positive("reconnectMin", reconnectMin)
            positive("reconnectMax", reconnectMax)
            if (reconnectMax < reconnectMin) {
                throw InvalidSpecException("listener reconnectMax $reconnectMax is below reconnectMin $reconnectMin")
            }
        }

        /** What a listener does when its buffer is full. */
        public enum class Overflow {
            /**
             * Stop reading from the socket until the handlers catch up: nothing is lost while connected. Redis
             * buffers what it cannot send (`client-output-buffer-limit pubsub`, 32 MB by default) and disconnects a
             * subscriber that stays behind; the listener then reconnects and reports the gap.
             */
            SUSPEND,

            /** Drop the oldest buffered message, counted and signalled ([PubSubSignal.Dropped]). */
            DROP_OLDEST,
        }

        /** These options with [listener] told of every signal. */
        public fun onSignal(listener: SignalListener): ListenerOptions = copy(onSignal = listener)

        /** These options with a buffer of [size] messages and [overflow] when it is full. */
        public fun buffer(
            size: Int,
            overflow: Overflow,
        ): ListenerOptions = copy(bufferSize = size, overflow = overflow)

        /** These options with [handler] seeing every message first, on the connection's I/O thread. */
        public fun inlineHandler(handler: InlineHandler): ListenerOptions = copy(inlineHandler = handler)

        private fun copy(
            bufferSize: Int = this.bufferSize,
            overflow: Overflow = this.overflow,
            onSignal: SignalListener? = this.onSignal,
            inlineHandler: InlineHandler? = this.inlineHandler,
        ): ListenerOptions =
            ListenerOptions(
                bufferSize,
                overflow,
                pingInterval,
                pingTimeout,
                reconnectMin,
                reconnectMax,
                onSignal,
                inlineHandler,
            )

        override fun toString(): String =
            "ListenerOptions(bufferSize=$bufferSize, overflow=$overflow, pingInterval=$pingInterval, " +
                "pingTimeout=$pingTimeout, reconnect=$reconnectMin..$reconnectMax)"

        public companion object {
            /** 1,024 messages. */
            public const val DEFAULT_BUFFER_SIZE: Int = 1024
            private const val DEFAULT_RECONNECT_MIN_MS = 50L

            private fun positive(
                name: String,
                value: Duration,
            ) {
                if (value.isNegative ||
                    value.isZero
                ) {
                    throw InvalidSpecException("listener $name is $value, must be > 0")
                }
            }
        }
    }

/** Told of a listener's signals. */
public fun interface SignalListener {
    /** Called for each [signal], in order. */
    public fun onSignal(signal: PubSubSignal)
}
