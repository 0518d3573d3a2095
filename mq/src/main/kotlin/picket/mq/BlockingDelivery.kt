package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.time.Duration
import java.time.Instant

/**
 * The blocking form of [Delivery], for Java handlers: [Delivery.blocking]. Runs on the calling thread (the handler's);
 * an interrupt (the handler cancelled at its lease's end) throws `PicketInterruptedException`, the flag kept.
 *
 * ```java
 * Instant deadline = delivery.blocking().extendLease(Duration.ofMinutes(2));
 * ```
 */
@OptIn(InternalPicketApi::class)
public class BlockingDelivery<T> internal constructor(
    private val delivery: Delivery<T>,
) {
    /**
     * [Delivery.extendLease]: extends the lease to [duration] from now (the master's clock); returns the new deadline.
     *
     * @throws LeaseLostException if the lease is no longer this delivery's.
     */
    public fun extendLease(duration: Duration): Instant =
        delivery.picket
            .javaCalls()
            .blocking("extendLease of message '${delivery.id}'") { delivery.extendLease(duration) }
}
