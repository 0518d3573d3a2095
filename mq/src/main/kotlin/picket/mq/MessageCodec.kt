package picket.mq

import java.util.Base64

/**
 * How messages become the strings Redis stores, and back. [STRING] and [BYTES] are built in; plug in JSON or any
 * other format by implementing both functions.
 *
 * ```kotlin
 * val orders = picket.queues(spec, object : MessageCodec<Order> {
 *     override fun encode(message: Order) = json.encodeToString(message)
 *     override fun decode(text: String) = json.decodeFromString<Order>(text)
 * })
 * ```
 *
 * A [decode] that throws makes the delivery fail like a handler that threw (retried, then dead-lettered).
 */
public interface MessageCodec<T> {
    /** [message] as stored. */
    public fun encode(message: T): String

    /** The message stored as [text]. */
    public fun decode(text: String): T

    public companion object {
        /** Strings as they are. */
        @JvmField
        public val STRING: MessageCodec<String> =
            object : MessageCodec<String> {
                override fun encode(message: String): String = message

                override fun decode(text: String): String = text

                override fun toString(): String = "MessageCodec.STRING"
            }

        /** Bytes, stored as Base64 (Picket's connections are UTF-8 strings; Base64 keeps every byte intact). */
        @JvmField
        public val BYTES: MessageCodec<ByteArray> =
            object : MessageCodec<ByteArray> {
                override fun encode(message: ByteArray): String = Base64.getEncoder().encodeToString(message)

                override fun decode(text: String): ByteArray = Base64.getDecoder().decode(text)

                override fun toString(): String = "MessageCodec.BYTES"
            }
    }
}
