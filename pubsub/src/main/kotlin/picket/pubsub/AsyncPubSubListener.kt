package picket.pubsub

import picket.core.InternalPicketApi
import java.time.Duration
import java.util.concurrent.CompletableFuture

/**
 * The future form of a [PubSubListener], for Java: [PubSubListener.async]. Each method is the Kotlin member of the
 * same name, started at once; its future completes with the result or the same typed error, on a Lettuce or Picket
 * thread. Cancelling the future cancels what it waits for (a change already sent to the server stays recorded).
 *
 * ```java
 * listener.async().subscribe("audit").thenRun(() -> log.info("subscribed"));
 * ```
 */
@OptIn(InternalPicketApi::class)
// The views pass Java's varargs on to the Kotlin members'.
@Suppress("SpreadOperator")
public class AsyncPubSubListener internal constructor(
    private val listener: PubSubListener,
) {
    /** [PubSubListener.awaitConnected]: completes with whether the listener is subscribed within [timeout]. */
    public fun awaitConnected(timeout: Duration): CompletableFuture<Boolean> =
        listener.calls.async { listener.awaitConnected(timeout) }

    /** [PubSubListener.subscribe]: completes once the server confirmed the channels [names]. */
    public fun subscribe(vararg names: String): CompletableFuture<Void?> = nothing { listener.subscribe(*names) }

    /** [PubSubListener.psubscribe]: completes once the server confirmed the patterns [globs]. */
    public fun psubscribe(vararg globs: String): CompletableFuture<Void?> = nothing { listener.psubscribe(*globs) }

    /** [PubSubListener.unsubscribe]: completes once the server confirmed. */
    public fun unsubscribe(vararg names: String): CompletableFuture<Void?> = nothing { listener.unsubscribe(*names) }

    /** [PubSubListener.punsubscribe]: completes once the server confirmed. */
    public fun punsubscribe(vararg globs: String): CompletableFuture<Void?> = nothing { listener.punsubscribe(*globs) }

    private fun nothing(block: suspend () -> Unit): CompletableFuture<Void?> =
        listener.calls.async {
            block()
            null
        }
}
