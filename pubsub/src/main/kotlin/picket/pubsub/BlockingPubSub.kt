package picket.pubsub

import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.internal.javaCalls

/**
 * The blocking form of [PubSub], for Java: [PubSub.blocking]. Each method is the Kotlin member of the same name, run
 * on the calling thread until it returns (Picket's Java convention, core's `engine/JavaCalls.kt`): an interrupt
 * cancels it and throws [picket.core.PicketInterruptedException] with the thread's interrupt flag set again.
 *
 * ```java
 * long receivers = new PubSub(picket).blocking().publish(spec, "alerts", "disk full");
 * new PubSub(picket).blocking().publish(spec, "orders", serializedOrder);   // a byte[]
 * ```
 */
@OptIn(InternalPicketApi::class)
public class BlockingPubSub internal constructor(
    private val pubsub: PubSub,
) {
    /**
     * [PubSub.publish]: publishes [message] on [channel] through the master of [spec] and returns how many
     * subscribers of that node received it.
     *
     * @throws picket.core.InvalidSpecException if [channel] is empty.
     */
    public fun publish(
        spec: ConnSpec,
        channel: String,
        message: String,
    ): Long = pubsub.picket.javaCalls().blocking("publish on ${spec.target}") { pubsub.publish(spec, channel, message) }

    /**
     * [PubSub.publish] of bytes: publishes [message] on [channel] through the master of [spec], to be received as
     * these very bytes ([PubSubMessage.payloadBytes]), and returns how many subscribers of that node received it.
     *
     * @throws picket.core.InvalidSpecException if [channel] is empty.
     */
    public fun publish(
        spec: ConnSpec,
        channel: String,
        message: ByteArray,
    ): Long = pubsub.picket.javaCalls().blocking("publish on ${spec.target}") { pubsub.publish(spec, channel, message) }
}
