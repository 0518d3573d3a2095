package picket.mq

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * What a handler says about a delivery: [Success], [Retry] after a backoff, or [Failure] (dead-lettered now). A
 * handler that throws is retried under the worker's [RetryPolicy]; one that returns anything else (null from Java)
 * is an error: [InvalidHandlerResultException], retried like an exception.
 *
 * ```kotlin
 * queues.worker("mail") { delivery ->
 *     if (send(delivery.message)) HandlerResult.success() else HandlerResult.retry(Duration.ofSeconds(30))
 * }
 * ```
 */
public sealed class HandlerResult {
    /**
     * Handled: the message is removed. Its id is kept de-duplicated (enqueueing it again says
     * [EnqueueOutcome.RECENTLY_DONE]) for [keepIdFor], or for [WorkerOptions.keepChosenIdsFor] when null and the
     * caller chose the id.
     */
    public data class Success(
        public val keepIdFor: Duration? = null,
    ) : HandlerResult() {
        init {
            if (keepIdFor != null && keepIdFor.isNegative) {
                throw InvalidSpecException("keepIdFor is $keepIdFor, must be >= 0")
            }
        }
    }

    /**
     * Not handled now: delivered again after [backoff] (the worker's [RetryPolicy] when null), with the next attempt
     * number, or dead-lettered with [reason] if this was the last attempt.
     */
    public data class Retry(
        public val backoff: Duration? = null,
        public val reason: String = "the handler asked for a retry",
    ) : HandlerResult() {
        init {
            if (backoff != null &&
                backoff.isNegative
            ) {
                throw InvalidSpecException("retry backoff is $backoff, must be >= 0")
            }
        }
    }

    /** Cannot be handled: moved to the dead-letter list now, with [reason] as its error. */
    public data class Failure(
        public val reason: String,
    ) : HandlerResult()

    public companion object {
        private val SUCCESS = Success()

        /** [Success], the id kept as the worker's options say. */
        @JvmStatic
        public fun success(): HandlerResult = SUCCESS

        /** [Success], the id kept de-duplicated for [keepIdFor]. */
        @JvmStatic
        public fun success(keepIdFor: Duration): HandlerResult = Success(keepIdFor)

        /** [Retry] after the retry policy's backoff. */
        @JvmStatic
        public fun retry(): HandlerResult = Retry()

        /** [Retry] after [backoff]. */
        @JvmStatic
        public fun retry(backoff: Duration): HandlerResult = Retry(backoff)

        /** [Failure] with [reason]: dead-lettered now. */
        @JvmStatic
        public fun failure(reason: String): HandlerResult = Failure(reason)
    }
}
