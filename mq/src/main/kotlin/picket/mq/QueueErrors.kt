package picket.mq

import picket.core.PicketException

/**
 * A handler returned something other than a [HandlerResult] (null from Java): an error, counted as a failed attempt
 * and retried under the worker's [RetryPolicy].
 */
public class InvalidHandlerResultException(
    public val queue: String,
    public val id: String,
    public val returned: String,
) : PicketException(
        "the handler of queue '$queue' returned $returned for message '$id', not a HandlerResult (success, retry or " +
            "failure)",
    )

/**
 * The lease on message [id] is no longer this delivery's: it expired and the message was taken again, or the queue
 * was cleared.
 */
public class LeaseLostException(
    public val queue: String,
    public val id: String,
) : PicketException("the lease on message '$id' of queue '$queue' was lost: it expired or the message was taken again")

/**
 * The list listener's handler failed on [message] of [list] [attempts] times; the message was moved to the dead-letter
 * list [deadList]. Thrown by [ListListener.getMessage].
 */
public class MessageDeadLetteredException(
    public val list: String,
    public val deadList: String,
    /** The message that failed. */
    public val listMessage: String,
    public val attempts: Int,
    cause: Throwable,
) : PicketException(
        "the handler of list '$list' failed $attempts times; the message was moved to '$deadList': " +
            "${cause::class.simpleName}: ${cause.message}",
        cause,
    )
