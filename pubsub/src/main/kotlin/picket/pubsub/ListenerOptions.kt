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
 * @property onEvent told of every [PubSubEvent] from the very first (the first subscription, the first connection),
 *   as a listener registered with [PubSubListener.registerListener] is from then on; it should not block.
 * @property inlineHandler sees every message first, on the connection's I/O thread, before it is buffered, and may
 *   take it (see [InlineHandler]); null (the default): every message is buffered for its handler.
 * @throws InvalidSpecException if a size or duration is not positive, or [reconnectMax] < [reconnectMin].
 */
public class ListenerOptions
    @JvmOverloads
    constructor(
        public val bufferSize: Int = DEFAULT_BUFFER_SIZE,
        public val overflow: Overflow = Overflow.SUSPEND,
        public val pingInterval: Duration = DEFAULT_PING,
        public val pingTimeout: Duration = DEFAULT_PING,
        public val reconnectMin: Duration = DEFAULT_RECONNECT_MIN,
        public val reconnectMax: Duration = DEFAULT_RECONNECT_MAX,
        public val onEvent: PubSubEventListener? = null,
        public val inlineHandler: InlineHandler? = null,
    ) {
        /** The old form of these options' constructor, with a [SignalListener] given by name (`onSignal = …`). */
        @Suppress("DEPRECATION")
        @Deprecated("onSignal is renamed onEvent", ReplaceWith("ListenerOptions(onEvent = onSignal)"))
        public constructor(
            onSignal: SignalListener,
            bufferSize: Int = DEFAULT_BUFFER_SIZE,
            overflow: Overflow = Overflow.SUSPEND,
            pingInterval: Duration = DEFAULT_PING,
            pingTimeout: Duration = DEFAULT_PING,
            reconnectMin: Duration = DEFAULT_RECONNECT_MIN,
            reconnectMax: Duration = DEFAULT_RECONNECT_MAX,
            inlineHandler: InlineHandler? = null,
        ) : this(
            bufferSize,
            overflow,
            pingInterval,
            pingTimeout,
            reconnectMin,
            reconnectMax,
            onSignal.asEventListener(),
            inlineHandler,
        )

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

            /** Drop the oldest buffered message, counted and reported ([PubSubEvent.Dropped]). */
            DROP_OLDEST,
        }

        /** These options with [listener] told of every event from the very first. */
        public fun onEvent(listener: PubSubEventListener): ListenerOptions = copy(onEvent = listener)

        /** The old name of [onEvent]. */
        @Suppress("DEPRECATION")
        @Deprecated("Renamed onEvent", ReplaceWith("onEvent(listener)"))
        public fun onSignal(listener: SignalListener): ListenerOptions = copy(onEvent = listener.asEventListener())

        /** The old name of [onEvent], as a [SignalListener]. */
        @Suppress("DEPRECATION")
        @Deprecated("Renamed onEvent", ReplaceWith("onEvent"))
        public val onSignal: SignalListener?
            get() = onEvent?.let { listener -> SignalListener { listener.onEvent(it as PubSubEvent) } }

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
            onEvent: PubSubEventListener? = this.onEvent,
            inlineHandler: InlineHandler? = this.inlineHandler,
        ): ListenerOptions =
            ListenerOptions(
                bufferSize,
                overflow,
                pingInterval,
                pingTimeout,
                reconnectMin,
                reconnectMax,
                onEvent,
                inlineHandler,
            )

        override fun toString(): String =
            "ListenerOptions(bufferSize=$bufferSize, overflow=$overflow, pingInterval=$pingInterval, " +
                "pingTimeout=$pingTimeout, reconnect=$reconnectMin..$reconnectMax)"

        public companion object {
            /** 1,024 messages. */
            public const val DEFAULT_BUFFER_SIZE: Int = 1024
            private val DEFAULT_PING: Duration = Duration.ofSeconds(1)
            private val DEFAULT_RECONNECT_MIN: Duration = Duration.ofMillis(50)
            private val DEFAULT_RECONNECT_MAX: Duration = Duration.ofSeconds(2)

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

/** The [PubSubEventListener] that tells this old-style listener. */
@Suppress("DEPRECATION")
private fun SignalListener.asEventListener(): PubSubEventListener = PubSubEventListener { onSignal(it) }
