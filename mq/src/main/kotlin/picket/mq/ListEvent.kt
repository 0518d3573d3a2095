package picket.mq

import java.time.Duration

/**
 * What a [ListListener] tells of itself; heard through [ListListener.registerListener], [ListListener.events] or, from
 * the very first, [ListListenerOptions.onEvent].
 */
@Suppress("DEPRECATION") // the old name stays a supertype until it is removed, so that code naming it compiles
public sealed class ListEvent : ListSignal() {
    /** Start-up (or after Redis failed) recovery found [count] messages in the processing list and handled them. */
    public data class Recovered(
        val count: Int,
    ) : ListEvent()

    /** The handler failed on [message] (attempt [attempt]) with [error]; it runs again after [backoff]. */
    public data class Retrying(
        val message: String,
        val attempt: Int,
        val error: Throwable,
        val backoff: Duration,
    ) : ListEvent()

    /** The handler failed on [message] [attempts] times; the message was moved to [deadList]. */
    public data class DeadLettered(
        val message: String,
        val attempts: Int,
        val error: Throwable,
        val deadList: String,
    ) : ListEvent()

    /** Redis failed ([cause], the [failures]th time in a row); the listener tries again after [retryIn]. */
    public data class ConnectionFailed(
        val cause: Throwable,
        val failures: Int,
        val retryIn: Duration,
    ) : ListEvent()

    /** Redis answers again after [failures] failures over [downFor]. */
    public data class Reconnected(
        val failures: Int,
        val downFor: Duration,
    ) : ListEvent()
}

/**
 * Told of a [ListListener]'s events, in order, on the coroutine the listener runs on (that of [ListListener.listen],
 * [ListListener.getMessage] or [ListListener.recover]), before it goes on: it should be fast and not throw (one that
 * throws is logged and the other listeners still run).
 */
public fun interface ListEventListener {
    /** Called for each [event], in order. */
    public fun onEvent(event: ListEvent)
}
