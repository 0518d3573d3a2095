package picket.mq

import java.time.Duration
import java.time.Instant

/**
 * One delivery of a message to a handler: the [message], its [id], which [attempt] this is (1 for the first), and
 * what the handler may want to know about it. [extendLease] keeps a long handling from being delivered again.
 *
 * @property age how long ago the message was enqueued (the master's clock, when it was taken).
 * @property leaseDeadline when the lease ends (the master's clock): not acknowledged by then, the message is
 *   delivered again and this handler is cancelled.
 * @property queueSize messages ready in the queue, after this one was taken.
 * @property lastError the error of the previous attempt (a handler's exception, a retry's reason, an expired lease),
 *   or null.
 */
public class Delivery<T> internal constructor(
    public val queue: String,
    public val id: String,
    public val message: T,
    public val attempt: Int,
    public val age: Duration,
    leaseDeadline: Instant,
    public val queueSize: Long,
    public val lastError: String?,
    private val extender: suspend (Delivery<T>, Duration) -> Instant,
) {
    @Volatile
    public var leaseDeadline: Instant = leaseDeadline
        internal set

    /**
     * Extends the lease to [duration] from now (the master's clock) and returns the new deadline.
     *
     * @throws LeaseLostException if the lease is no longer this delivery's (it expired and the message was taken
     *   again, or the queue was cleared).
     */
    public suspend fun extendLease(duration: Duration): Instant = extender(this, duration)

    /** [extendLease] for Java handlers, on the calling thread. */
    public fun extendLeaseBlocking(duration: Duration): Instant =
        kotlinx.coroutines.runBlocking { extendLease(duration) }

    override fun toString(): String = "Delivery(queue=$queue, id=$id, attempt=$attempt, age=$age)"
}
