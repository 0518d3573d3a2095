package picket.mq

import picket.core.Picket
import java.time.Duration
import java.time.Instant

/**
 * One delivery of a message to a handler: the [message], its [id], which [attempt] this is (1 for the first), and
 * what the handler may want to know about it. [extendLease] keeps a long handling from being delivered again; a Java
 * handler calls `delivery.blocking().extendLease(duration)` (on its own thread) or `delivery.async().extendLease(…)`.
 *
 * @property age how long ago the message was enqueued (the master's clock, when it was taken).
 * @property leaseDeadline when the lease ends (the master's clock): not acknowledged by then, the message is
 *   delivered again and this handler is cancelled.
 * @property queueSize messages ready in the queue, after this one was taken.
 * @property lastError the error of the previous attempt (a handler's exception, a retry's reason, an expired lease),
 *   or null.
 */
public class Delivery<T> private constructor(
    public val queue: String,
    public val id: String,
    public val message: T,
    public val attempt: Int,
    public val age: Duration,
    leaseDeadline: Instant,
    public val queueSize: Long,
    public val lastError: String?,
    @get:JvmSynthetic internal val picket: Picket,
    private val extender: suspend (Delivery<T>, Duration) -> Instant,
) {
    @Volatile
    public var leaseDeadline: Instant = leaseDeadline
        internal set

    private val blocking = BlockingDelivery(this)
    private val async = AsyncDelivery(this)

    /**
     * Extends the lease to [duration] from now (the master's clock) and returns the new deadline.
     *
     * @throws LeaseLostException if the lease is no longer this delivery's (it expired and the message was taken
     *   again, or the queue was cleared).
     */
    @JvmSynthetic
    public suspend fun extendLease(duration: Duration): Instant = extender(this, duration)

    /** The blocking form of [extendLease], for Java handlers: on the calling thread, interruptibly. */
    public fun blocking(): BlockingDelivery<T> = blocking

    /** The `CompletableFuture` form of [extendLease], for Java. */
    public fun async(): AsyncDelivery<T> = async

    override fun toString(): String = "Delivery(queue=$queue, id=$id, attempt=$attempt, age=$age)"

    internal companion object {
        /** A delivery whose [extendLease] runs [extender]; made by the worker's handling. */
        @JvmSynthetic
        @Suppress("LongParameterList") // what a handler is told about its delivery
        internal fun <T> create(
            queue: String,
            id: String,
            message: T,
            attempt: Int,
            age: Duration,
            leaseDeadline: Instant,
            queueSize: Long,
            lastError: String?,
            picket: Picket,
            extender: suspend (Delivery<T>, Duration) -> Instant,
        ): Delivery<T> =
            Delivery(queue, id, message, attempt, age, leaseDeadline, queueSize, lastError, picket, extender)
    }
}
