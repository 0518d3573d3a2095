package picket.pubsub

import picket.core.Address
import java.time.Instant

/**
 * What happens to a [PubSubListener], as typed events (never as pseudo-messages): subscriptions confirmed by the
 * server, the connection lost and the listener resumed, a handler that threw, messages dropped. Heard through
 * [PubSubListener.registerListener], [PubSubListener.events] or, from the very first, [ListenerOptions.onEvent].
 */
@Suppress("DEPRECATION") // the old name stays a supertype until it is removed, so that code naming it compiles
public sealed class PubSubEvent : PubSubSignal() {
    /** The server confirmed a subscription; [count] is how many the connection has now. */
    public data class Subscribed(
        public val topic: Topic,
        public val count: Long,
    ) : PubSubEvent()

    /** The server confirmed an unsubscription; [count] is how many the connection has left. */
    public data class Unsubscribed(
        public val topic: Topic,
        public val count: Long,
    ) : PubSubEvent()

    /** The listener is connected and subscribed for the first time, on [address]. */
    public data class Connected(
        public val address: Address,
        public val at: Instant,
    ) : PubSubEvent()

    /**
     * The listener stopped trusting its connection to [address] at [at] ([reason]: a switch of the master, the
     * connection closed, no PING reply in time) and is reconnecting.
     */
    public data class Disconnected(
        public val address: Address,
        public val at: Instant,
        public val reason: String,
    ) : PubSubEvent()

    /**
     * The listener is subscribed again, on [address], every channel and pattern. Messages published between
     * [gapStart] and [resumedAt] may be missing; every message published before [gapStart] had arrived, and every
     * one published after [resumedAt] arrives. [gapStart] is the last moment the old connection was known to
     * deliver (the last PING answered on it), or the start of a failover announced before that, whichever is
     * earlier.
     */
    public data class Resumed(
        public val address: Address,
        public val previousAddress: Address,
        public val gapStart: Instant,
        public val resumedAt: Instant,
    ) : PubSubEvent() {
        /** How long messages may have been missed. */
        public val gap: java.time.Duration get() = java.time.Duration.between(gapStart, resumedAt)
    }

    /** Connecting failed ([attempt] in a row); the next attempt is in [retryIn], or at once on a switch. */
    public data class ReconnectFailed(
        public val attempt: Int,
        public val cause: Throwable,
        public val retryIn: java.time.Duration,
    ) : PubSubEvent()

    /** The handler of [message] threw [error]; the listener goes on with the next message. */
    public data class HandlerFailed(
        public val message: PubSubMessage,
        public val error: Throwable,
    ) : PubSubEvent()

    /** The buffer was full and the oldest message was dropped ([ListenerOptions.Overflow.DROP_OLDEST]). */
    public data class Dropped(
        public val message: PubSubMessage,
        public val total: Long,
    ) : PubSubEvent()
}

/**
 * Told of a [PubSubListener]'s events, in order, on the listener's own coroutine (never on the connection's I/O
 * thread); it should be fast and not throw (one that throws is logged and the other listeners still run).
 */
public fun interface PubSubEventListener {
    /** Called for each [event], in order. */
    public fun onEvent(event: PubSubEvent)
}
