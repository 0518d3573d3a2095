package picket.mq

import java.time.Duration
import java.time.Instant

/**
 * A snapshot of one queue, read in one script on the master.
 *
 * @property ready messages waiting to be taken now.
 * @property delayed messages waiting for their delay or retry backoff.
 * @property inFlight messages taken and not yet acknowledged (their lease is alive or just expired).
 * @property recentlyDone ids kept de-duplicated after success.
 * @property dead messages in the dead-letter list.
 * @property oldestReadyAge how long the next message to be taken has been in the queue; null when none is ready.
 * @property enqueued messages added since the queue was created or cleared (totals from here on).
 * @property done successful handlings.
 * @property retried retries scheduled.
 * @property deadLettered messages moved to the dead-letter list.
 * @property redelivered messages delivered again after an expired lease.
 * @property serverTime the master's clock when read.
 */
public data class QueueStatus(
    public val queue: String,
    public val ready: Long,
    public val delayed: Long,
    public val inFlight: Long,
    public val recentlyDone: Long,
    public val dead: Long,
    public val oldestReadyAge: Duration?,
    public val enqueued: Long,
    public val done: Long,
    public val retried: Long,
    public val deadLettered: Long,
    public val redelivered: Long,
    public val serverTime: Instant,
)

/** Where a message is: [MessageInfo.state]. */
public enum class MessageState {
    /** Waiting in the ready list. */
    QUEUED,

    /** Waiting for its delay or retry backoff. */
    DELAYED,

    /** Taken by a worker, lease alive (or just expired). */
    IN_FLIGHT,

    /** Handled; only its id is kept, for de-duplication. */
    DONE,

    /** In the dead-letter list. */
    DEAD,
}

/**
 * One message as [MessageQueues.messageStatus] sees it.
 *
 * @property message the content; null once done (only the id is kept).
 * @property attempts deliveries so far.
 * @property due when it is (or was) due, for a waiting message.
 * @property leaseDeadline the lease's end, for a message in flight.
 * @property lastError the last error, if any attempt failed.
 * @property requeueScheduled a requeue was asked while it is in flight: it runs again after this handling.
 */
public data class MessageInfo<T>(
    public val queue: String,
    public val id: String,
    public val state: MessageState,
    public val message: T?,
    public val attempts: Int,
    public val created: Instant?,
    public val due: Instant?,
    public val leaseDeadline: Instant?,
    public val lastError: String?,
    public val requeueScheduled: Boolean,
)

/** A message in the dead-letter list, with the error it died of. */
public data class DeadLetter<T>(
    public val queue: String,
    public val id: String,
    public val message: T?,
    public val attempts: Int,
    public val error: String,
    public val deadSince: Instant,
    public val created: Instant,
)

/** What [MessageQueues.clearQueueDeletingAllMessages] deleted, per state. */
public data class ClearedQueue(
    public val queue: String,
    public val ready: Long,
    public val delayed: Long,
    public val inFlight: Long,
    public val recentlyDone: Long,
    public val dead: Long,
)
