package picket.pubsub

import picket.core.InternalPicketApi
import java.time.Duration

/**
 * The blocking form of a [PubSubListener], for Java: [PubSubListener.blocking]. Each method is the Kotlin member of
 * the same name, run on the calling thread until it returns (Picket's Java convention, core's `engine/JavaCalls.kt`):
 * an interrupt cancels the wait and throws [picket.core.PicketInterruptedException] with the thread's interrupt flag
 * set again.
 *
 * ```java
 * if (!listener.blocking().awaitConnected(Duration.ofSeconds(10))) throw new IllegalStateException("not subscribed");
 * listener.blocking().subscribe("audit", "billing");
 * ```
 */
@OptIn(InternalPicketApi::class)
// The views pass Java's varargs on to the Kotlin members'.
@Suppress("SpreadOperator")
public class BlockingPubSubListener internal constructor(
    private val listener: PubSubListener,
) {
    /** [PubSubListener.awaitConnected]: whether the listener is subscribed on a node within [timeout]. */
    public fun awaitConnected(timeout: Duration): Boolean =
        listener.calls.blocking(what("awaitConnected")) { listener.awaitConnected(timeout) }

    /**
     * [PubSubListener.subscribe]: returns once the server confirmed the channels [names] (or the change is recorded
     * while the listener reconnects).
     *
     * @throws picket.core.InvalidSpecException if a name is empty; nothing is subscribed then.
     * @throws picket.core.PicketClosedException if the listener is closed.
     */
    public fun subscribe(vararg names: String): Unit =
        listener.calls.blocking(what("subscribe")) { listener.subscribe(*names) }

    /** [PubSubListener.psubscribe]: subscribes to the patterns [globs], as [subscribe] does for channels. */
    public fun psubscribe(vararg globs: String): Unit =
        listener.calls.blocking(what("psubscribe")) { listener.psubscribe(*globs) }

    /** [PubSubListener.unsubscribe]: unsubscribes from the channels [names]; their handlers stay. */
    public fun unsubscribe(vararg names: String): Unit =
        listener.calls.blocking(what("unsubscribe")) { listener.unsubscribe(*names) }

    /** [PubSubListener.punsubscribe]: unsubscribes from the patterns [globs]; their handlers stay. */
    public fun punsubscribe(vararg globs: String): Unit =
        listener.calls.blocking(what("punsubscribe")) { listener.punsubscribe(*globs) }

    private fun what(call: String): String = "$call of the pub/sub listener on ${listener.spec.target}"
}
