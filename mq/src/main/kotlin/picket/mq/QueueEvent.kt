package picket.mq

import java.time.Duration

/**
 * What happens in a queue, as [MessageQueues] and its workers see it; heard through [MessageQueues.registerListener]
 * or [MessageQueues.events]. Listeners run on the coroutine that emits (an enqueue's caller, a worker's
 * handler or poll): they must be fast and should not throw (one that throws is logged and the others still run).
 */
public sealed class QueueEvent {
    /** The queue concerned. */
    public abstract val queue: String

    /** [MessageQueues.enqueue] returned [outcome] for [id]. */
    public data class Enqueued(
        override val queue: String,
        val id: String,
        val outcome: EnqueueOutcome,
    ) : QueueEvent()

    /**
     * A handler finished delivery [attempt] of [id] with [result] (after an exception or an unknown result: the
     * [HandlerResult.Retry] the worker made of it), [timeToHandler] after the message became due, in [handlingTime].
     */
    public data class Handled(
        override val queue: String,
        val id: String,
        val attempt: Int,
        val result: HandlerResult,
        val timeToHandler: Duration,
        val handlingTime: Duration,
    ) : QueueEvent()

    /** Delivery [attempt] of [id] failed with [error]; it is delivered again after [backoff]. */
    public data class Retried(
        override val queue: String,
        val id: String,
        val attempt: Int,
        val backoff: Duration,
        val error: String,
    ) : QueueEvent()

    /** [id] moved to the dead-letter list after [attempts] deliveries, with [error]. */
    public data class DeadLettered(
        override val queue: String,
        val id: String,
        val attempts: Int,
        val error: String,
    ) : QueueEvent()

    /** [id]'s lease expired without an acknowledgement (a worker died, a handler overran); it is delivered again. */
    public data class Redelivered(
        override val queue: String,
        val id: String,
    ) : QueueEvent()

    /**
     * The lease of delivery [attempt] of [id] ended before its handler finished ([expired]: the worker cancelled the
     * handler at the deadline) or was found taken over when acknowledged: the result was not recorded, and the
     * message is (or was) delivered again.
     */
    public data class LeaseLost(
        override val queue: String,
        val id: String,
        val attempt: Int,
        val expired: Boolean,
    ) : QueueEvent()

    /**
     * [size] messages were ready, more than [threshold] ([MessageQueues.warnBacklogAbove],
     * [WorkerOptions.backlogWarning]), as an enqueue, a status call or a worker's poll saw; once per crossing.
     */
    public data class BacklogHigh(
        override val queue: String,
        val size: Long,
        val threshold: Long,
    ) : QueueEvent()

    /** A worker's poll or acknowledgement failed ([cause]); it tries again after [retryIn]. */
    public data class WorkerError(
        override val queue: String,
        val cause: Throwable,
        val retryIn: Duration,
    ) : QueueEvent()
}

/** Told of every [QueueEvent]; should be fast and not throw. */
public fun interface QueueListener {
    /** Called for each [event]. */
    public fun onEvent(event: QueueEvent)
}
