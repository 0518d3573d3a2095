package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CompletableFuture

/**
 * The future form of [Delivery], for Java handlers that compose futures: [Delivery.async].
 *
 * ```java
 * delivery.async().extendLease(Duration.ofMinutes(2)).thenAccept(deadline -> log.info("until {}", deadline));
 * ```
 */
@OptIn(InternalPicketApi::class)
public class AsyncDelivery<T> internal constructor(
    private val delivery: Delivery<T>,
) {
    /**
     * [Delivery.extendLease]: extends the lease to [duration] from now; completes with the new deadline, or with
     * [LeaseLostException] if the lease is no longer this delivery's.
     */
    public fun extendLease(duration: Duration): CompletableFuture<Instant> =
        delivery.picket.javaCalls().async { delivery.extendLease(duration) }
}
