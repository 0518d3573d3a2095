package picket.pubsub

/**
 * The old name of [PubSubEvent], kept so that code written against it compiles: every event is a [PubSubEvent], and
 * `PubSubSignal.Resumed` and the other nested names are [PubSubEvent]'s classes.
 */
@Deprecated("Renamed PubSubEvent", ReplaceWith("PubSubEvent"))
public sealed class PubSubSignal {
    /** Old name of [PubSubEvent.Subscribed]. */
    @Deprecated("Renamed PubSubEvent.Subscribed", ReplaceWith("PubSubEvent.Subscribed"))
    public typealias Subscribed = PubSubEvent.Subscribed

    /** Old name of [PubSubEvent.Unsubscribed]. */
    @Deprecated("Renamed PubSubEvent.Unsubscribed", ReplaceWith("PubSubEvent.Unsubscribed"))
    public typealias Unsubscribed = PubSubEvent.Unsubscribed

    /** Old name of [PubSubEvent.Connected]. */
    @Deprecated("Renamed PubSubEvent.Connected", ReplaceWith("PubSubEvent.Connected"))
    public typealias Connected = PubSubEvent.Connected

    /** Old name of [PubSubEvent.Disconnected]. */
    @Deprecated("Renamed PubSubEvent.Disconnected", ReplaceWith("PubSubEvent.Disconnected"))
    public typealias Disconnected = PubSubEvent.Disconnected

    /** Old name of [PubSubEvent.Resumed]. */
    @Deprecated("Renamed PubSubEvent.Resumed", ReplaceWith("PubSubEvent.Resumed"))
    public typealias Resumed = PubSubEvent.Resumed

    /** Old name of [PubSubEvent.ReconnectFailed]. */
    @Deprecated("Renamed PubSubEvent.ReconnectFailed", ReplaceWith("PubSubEvent.ReconnectFailed"))
    public typealias ReconnectFailed = PubSubEvent.ReconnectFailed

    /** Old name of [PubSubEvent.HandlerFailed]. */
    @Deprecated("Renamed PubSubEvent.HandlerFailed", ReplaceWith("PubSubEvent.HandlerFailed"))
    public typealias HandlerFailed = PubSubEvent.HandlerFailed

    /** Old name of [PubSubEvent.Dropped]. */
    @Deprecated("Renamed PubSubEvent.Dropped", ReplaceWith("PubSubEvent.Dropped"))
    public typealias Dropped = PubSubEvent.Dropped
}

/** The old form of [PubSubEventListener], kept so that code written against it compiles; delivered the same way. */
@Suppress("DEPRECATION")
@Deprecated("Renamed PubSubEventListener", ReplaceWith("PubSubEventListener"))
public fun interface SignalListener {
    /** Called for each [signal], in order. */
    public fun onSignal(signal: PubSubSignal)
}
