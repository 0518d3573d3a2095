package picket.pubsub

import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.util.concurrent.CompletableFuture

/**
 * The future form of [PubSub], for Java: [PubSub.async]. Each method is the Kotlin member of the same name, started
 * at once; its future completes with the result or the same typed error, on a Lettuce or Picket thread. Cancelling
 * the future cancels what it waits for.
 *
 * ```java
 * new PubSub(picket).async().publish(spec, "alerts", "disk full").thenAccept(n -> log.info("{} receivers", n));
 * ```
 */
@OptIn(InternalPicketApi::class)
public class AsyncPubSub internal constructor(
    private val pubsub: PubSub,
) {
    /** [PubSub.publish]: the number of receivers on the master of [spec]. */
    public fun publish(
        spec: ConnSpec,
        channel: String,
        message: String,
    ): CompletableFuture<Long> = pubsub.picket.javaCalls().async { pubsub.publish(spec, channel, message) }

    /** [PubSub.publish] of bytes, received as these very bytes: the number of receivers on the master of [spec]. */
    public fun publish(
        spec: ConnSpec,
        channel: String,
        message: ByteArray,
    ): CompletableFuture<Long> = pubsub.picket.javaCalls().async { pubsub.publish(spec, channel, message) }
}
