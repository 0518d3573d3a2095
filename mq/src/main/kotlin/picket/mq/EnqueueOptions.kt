package picket.mq

import picket.core.Durability
import picket.core.InvalidSpecException
import java.time.Duration

/**
 * How [MessageQueues.enqueue] queues one message. The defaults queue a new message under a random id, ready at once.
 *
 * ```kotlin
 * queues.enqueue("mail", text, EnqueueOptions(id = "welcome:42", delay = Duration.ofMinutes(5)))
 * ```
 *
 * @property id the message's id, chosen by the caller: an id already queued, in flight, recently done or dead is not
 *   queued again (the [EnqueueResult.outcome] says which), unless an option below says what to do with it. Null: a
 *   random id.
 * @property delay deliver not before this long from now (the master's clock). Zero: at once.
 * @property visibilityTimeout this message's lease: a delivery not acknowledged within it is delivered again. Null:
 *   the worker's [WorkerOptions.visibilityTimeout].
 * @property durability confirmation by the replicas (`WAIT`) before [MessageQueues.enqueue] returns; null: the spec's
 *   own [picket.core.ConnSpec.durability]. [Durability.allReplicas] is what survives any failover.
 * @property update a message with this id that is still waiting (queued or delayed) takes the new content
 *   ([EnqueueOutcome.UPDATED]).
 * @property requeue a message with this id that is being handled now runs again once the current handling succeeds
 *   (with the new content if [update], after [delay]) ([EnqueueOutcome.REQUEUE_SCHEDULED]); one recently done or
 *   dead is queued afresh ([EnqueueOutcome.ADDED]).
 * @property debounce a message with this id that is still waiting has its delay restarted: it is delivered [delay]
 *   from now ([EnqueueOutcome.UPDATED]).
 * @throws InvalidSpecException if [id] is blank, [delay] is negative or [visibilityTimeout] is not positive.
 */
public data class EnqueueOptions
    @JvmOverloads
    constructor(
        public val id: String? = null,
        public val delay: Duration = Duration.ZERO,
        public val visibilityTimeout: Duration? = null,
        public val durability: Durability? = null,
        public val update: Boolean = false,
        public val requeue: Boolean = false,
        public val debounce: Boolean = false,
    ) {
        init {
            if (id != null && id.isBlank()) throw InvalidSpecException("message id is blank: use null for a random id")
            if (delay.isNegative) throw InvalidSpecException("enqueue delay is $delay, must be >= 0")
            if (visibilityTimeout != null && (visibilityTimeout.isNegative || visibilityTimeout.isZero)) {
                throw InvalidSpecException("visibilityTimeout is $visibilityTimeout, must be > 0")
            }
        }

        /** These options with [id]. */
        public fun id(id: String): EnqueueOptions = copy(id = id)

        /** These options with [delay]. */
        public fun delay(delay: Duration): EnqueueOptions = copy(delay = delay)

        /** These options with a visibility timeout of [timeout] for this message. */
        public fun visibilityTimeout(timeout: Duration): EnqueueOptions = copy(visibilityTimeout = timeout)

        /** These options confirmed by the replicas as [durability] says. */
        public fun durable(durability: Durability): EnqueueOptions = copy(durability = durability)

        /** These options updating a waiting message's content. */
        public fun update(): EnqueueOptions = copy(update = true)

        /** These options running a message again after its current handling, or queueing a done or dead one afresh. */
        public fun requeue(): EnqueueOptions = copy(requeue = true)

        /** These options restarting a waiting message's delay. */
        public fun debounce(): EnqueueOptions = copy(debounce = true)

        public companion object {
            /** A new message under a random id, ready at once. */
            @JvmField
            public val DEFAULT: EnqueueOptions = EnqueueOptions()
        }
    }

/** What [MessageQueues.enqueue] did with a message: its [id] and the [outcome]. */
public data class EnqueueResult(
    public val id: String,
    public val outcome: EnqueueOutcome,
) {
    /** True if the message is now queued or delayed as a new message. */
    public val added: Boolean get() = outcome == EnqueueOutcome.ADDED
}

/** What happened to an enqueued message; only [ADDED], [UPDATED] and [REQUEUE_SCHEDULED] changed anything. */
public enum class EnqueueOutcome {
    /** Queued (or delayed) as a new message. */
    ADDED,

    /** A waiting message with this id took the new content or a new delay. */
    UPDATED,

    /** A message with this id is waiting already; nothing changed (de-duplicated). */
    ALREADY_QUEUED,

    /** A message with this id is being handled; nothing changed. */
    IN_FLIGHT,

    /** A message with this id is being handled; it will run again once that handling succeeds. */
    REQUEUE_SCHEDULED,

    /** A message with this id was done recently and is kept de-duplicated; nothing changed. */
    RECENTLY_DONE,

    /** A message with this id is in the dead-letter list; nothing changed (see [MessageQueues.requeueDead]). */
    DEAD,
}
