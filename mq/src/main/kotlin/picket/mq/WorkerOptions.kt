package picket.mq

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * How a [Worker] takes and handles messages.
 *
 * @property concurrency handlers running at once; a message is taken only when one of them is free.
 * @property visibilityTimeout the lease of a delivery unless the message has its own
 *   ([EnqueueOptions.visibilityTimeout]): not acknowledged within it, the message is delivered again (to any worker)
 *   and the handler still running is cancelled.
 * @property retry attempts, backoff and jitter of failed deliveries.
 * @property idleBackoffMin the first pause after a poll that found nothing; it doubles up to [idleBackoffMax]. An
 *   enqueue that makes the queue non-empty cuts it short (pub/sub wake-up), as does a delayed message falling due.
 * @property idleBackoffMax the longest pause between two polls of an empty queue: bounds an idle worker's load on
 *   the server (about one script per [idleBackoffMax] and one PING per [wakePingInterval]).
 * @property jitter the pauses are spread by up to ±this fraction, so that workers do not poll in step.
 * @property throttle a pause after each poll that took messages, as a function of the backlog (ready messages left):
 *   carmine's `throttle-ms`. Null: none.
 * @property takeBatch the most messages one poll takes (never more than the free handlers).
 * @property keepChosenIdsFor how long the id of a message whose id the caller chose stays de-duplicated after it
 *   succeeded, unless the handler says otherwise ([HandlerResult.Success.keepIdFor]). Random ids are forgotten at once.
 * @property drainTimeout how long [Worker.stop] waits for running handlers by default; those still running then are
 *   cancelled and their messages delivered again after their lease.
 * @property backlogWarning while the worker runs, a [QueueEvent.BacklogHigh] is emitted when more messages than this
 *   are ready (once per crossing), as [MessageQueues.warnBacklogAbove] does: seen by its polls, and by the enqueues
 *   and [MessageQueues.status] calls of the same [MessageQueues]. Null: none of its own.
 * @property wakePingInterval how often the wake-up subscription is checked for liveness.
 * @throws InvalidSpecException naming the first value out of range.
 */
public data class WorkerOptions
    @JvmOverloads
    constructor(
        public val concurrency: Int = 1,
        public val visibilityTimeout: Duration = Duration.ofSeconds(DEFAULT_VISIBILITY_SECONDS),
        public val retry: RetryPolicy = RetryPolicy(),
        public val idleBackoffMin: Duration = Duration.ofMillis(DEFAULT_IDLE_MIN_MS),
        public val idleBackoffMax: Duration = Duration.ofSeconds(2),
        public val jitter: Double = DEFAULT_JITTER,
        public val throttle: Throttle? = null,
        public val takeBatch: Int = DEFAULT_TAKE_BATCH,
        public val keepChosenIdsFor: Duration = Duration.ofMinutes(DEFAULT_KEEP_MINUTES),
        public val drainTimeout: Duration = Duration.ofSeconds(DEFAULT_DRAIN_SECONDS),
        public val backlogWarning: Long? = null,
        public val wakePingInterval: Duration = Duration.ofSeconds(DEFAULT_PING_SECONDS),
    ) {
        init {
            if (concurrency < 1) throw InvalidSpecException("worker concurrency is $concurrency, must be >= 1")
            positive("visibilityTimeout", visibilityTimeout)
            positive("idleBackoffMin", idleBackoffMin)
            positive("wakePingInterval", wakePingInterval)
            if (idleBackoffMax < idleBackoffMin) {
                throw InvalidSpecException("idleBackoffMax $idleBackoffMax is below idleBackoffMin $idleBackoffMin")
            }
            if (jitter !in 0.0..1.0) throw InvalidSpecException("worker jitter is $jitter, must be within 0..1")
            if (takeBatch < 1) throw InvalidSpecException("takeBatch is $takeBatch, must be >= 1")
            if (keepChosenIdsFor.isNegative) {
                throw InvalidSpecException("keepChosenIdsFor is $keepChosenIdsFor, must be >= 0")
            }
            if (drainTimeout.isNegative) throw InvalidSpecException("drainTimeout is $drainTimeout, must be >= 0")
            if (backlogWarning != null && backlogWarning < 0) {
                throw InvalidSpecException("backlogWarning is $backlogWarning, must be >= 0")
            }
        }

        /** These options with [concurrency] handlers. */
        public fun concurrency(concurrency: Int): WorkerOptions = copy(concurrency = concurrency)

        /** These options with a default lease of [timeout]. */
        public fun visibilityTimeout(timeout: Duration): WorkerOptions = copy(visibilityTimeout = timeout)

        /** These options with [retry]. */
        public fun retry(retry: RetryPolicy): WorkerOptions = copy(retry = retry)

        /** These options pausing [min] doubling to [max] between polls of an empty queue. */
        public fun idleBackoff(
            min: Duration,
            max: Duration,
        ): WorkerOptions = copy(idleBackoffMin = min, idleBackoffMax = max)

        /** These options with [throttle]. */
        public fun throttle(throttle: Throttle): WorkerOptions = copy(throttle = throttle)

        /** These options warning above [threshold] ready messages. */
        public fun backlogWarning(threshold: Long): WorkerOptions = copy(backlogWarning = threshold)

        /** These options with [drainTimeout]. */
        public fun drainTimeout(timeout: Duration): WorkerOptions = copy(drainTimeout = timeout)

        public companion object {
            private const val DEFAULT_VISIBILITY_SECONDS = 60L
            private const val DEFAULT_IDLE_MIN_MS = 50L
            private const val DEFAULT_JITTER = 0.2
            private const val DEFAULT_TAKE_BATCH = 32
            private const val DEFAULT_KEEP_MINUTES = 5L
            private const val DEFAULT_DRAIN_SECONDS = 30L
            private const val DEFAULT_PING_SECONDS = 5L

            private fun positive(
                name: String,
                value: Duration,
            ) {
                if (value.isNegative || value.isZero) throw InvalidSpecException("worker $name is $value, must be > 0")
            }
        }
    }

/** A pause after a poll, as a function of the backlog it saw: carmine's poll throttling. */
public fun interface Throttle {
    /** How long to pause when [backlog] messages are ready; zero for none. */
    public fun pause(backlog: Long): Duration
}
