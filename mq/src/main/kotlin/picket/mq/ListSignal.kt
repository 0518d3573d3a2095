package picket.mq

/**
 * The old name of [ListEvent], kept so that code written against it compiles: every event is a [ListEvent], and
 * `ListSignal.Retrying` and the other nested names are [ListEvent]'s classes.
 */
@Deprecated("Renamed ListEvent", ReplaceWith("ListEvent"))
public sealed class ListSignal {
    /** Old name of [ListEvent.Recovered]. */
    @Deprecated("Renamed ListEvent.Recovered", ReplaceWith("ListEvent.Recovered"))
    public typealias Recovered = ListEvent.Recovered

    /** Old name of [ListEvent.Retrying]. */
    @Deprecated("Renamed ListEvent.Retrying", ReplaceWith("ListEvent.Retrying"))
    public typealias Retrying = ListEvent.Retrying

    /** Old name of [ListEvent.DeadLettered]. */
    @Deprecated("Renamed ListEvent.DeadLettered", ReplaceWith("ListEvent.DeadLettered"))
    public typealias DeadLettered = ListEvent.DeadLettered

    /** Old name of [ListEvent.ConnectionFailed]. */
    @Deprecated("Renamed ListEvent.ConnectionFailed", ReplaceWith("ListEvent.ConnectionFailed"))
    public typealias ConnectionFailed = ListEvent.ConnectionFailed

    /** Old name of [ListEvent.Reconnected]. */
    @Deprecated("Renamed ListEvent.Reconnected", ReplaceWith("ListEvent.Reconnected"))
    public typealias Reconnected = ListEvent.Reconnected
}

/** The old form of [ListEventListener], kept so that code written against it compiles; delivered the same way. */
@Suppress("DEPRECATION")
@Deprecated("Renamed ListEventListener", ReplaceWith("ListEventListener"))
public fun interface ListSignalListener {
    /** Called for each [signal], in order. */
    public fun onSignal(signal: ListSignal)
}
