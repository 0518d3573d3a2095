package picket.pubsub

import java.nio.ByteBuffer
import java.nio.charset.CharacterCodingException
import java.nio.charset.CodingErrorAction
import java.nio.charset.StandardCharsets.UTF_8

/**
 * A message a listener received: its [channel], the [pattern] it matched for a pattern subscription (null for a
 * channel subscription), and its payload, exactly the bytes that were published: [payloadBytes] for bytes (a
 * serialized object, say), [payload] for text.
 *
 * ```kotlin
 * picket.listen(spec, mapOf(Topic.channel("orders") to { m -> orders.add(Order.parseFrom(m.payloadBytes())) }))
 * ```
 *
 * Two messages are equal when channel, pattern and payload bytes are. It is not a data class: an array property
 * would make `equals` compare identities.
 *
 * ## Pitfalls
 * The constructor that takes bytes keeps the array given, without a copy (one message may pass through an inline
 * handler, a handler and a [PubSubEvent.HandlerFailed]): do not change it afterwards. [payloadBytes] returns a copy.
 */
public class PubSubMessage(
    /** The channel it was published on. */
    public val channel: String,
    /** The pattern it matched, for a pattern subscription; null for a channel subscription. */
    public val pattern: String?,
    payload: ByteArray,
) {
    private val bytes: ByteArray = payload

    @Volatile
    private var text: String? = null

    /**
     * A message with the text [payload], as UTF-8 bytes (what Redis receives when a string is published). Its
     * [payload] is decoded from those bytes, as a received message's is: a string that UTF-8 cannot carry (an unpaired
     * surrogate) reads back as Redis would have delivered it.
     */
    public constructor(channel: String, pattern: String?, payload: String) :
        this(channel, pattern, payload.toByteArray(UTF_8))

    /**
     * The payload as text: the bytes decoded as UTF-8 on first use (a malformed sequence becomes U+FFFD, so binary
     * payloads are read with [payloadBytes]).
     */
    public val payload: String
        get() = text ?: String(bytes, UTF_8).also { text = it }

    /** The payload's length in bytes. */
    public val payloadSize: Int get() = bytes.size

    /** The subscription that delivered it. */
    public val topic: Topic get() = if (pattern == null) Topic.Channel(channel) else Topic.Pattern(pattern)

    /** The payload's bytes, exactly as published: a copy of them, which the caller may change. */
    public fun payloadBytes(): ByteArray = bytes.copyOf()

    override fun equals(other: Any?): Boolean {
        if (this === other) return true
        return other is PubSubMessage && channel == other.channel && pattern == other.pattern &&
            bytes.contentEquals(other.bytes)
    }

    override fun hashCode(): Int = (channel.hashCode() * HASH + pattern.hashCode()) * HASH + bytes.contentHashCode()

    /** The channel, the pattern, and the payload: as text when it is UTF-8, else its size and first bytes in hex. */
    override fun toString(): String = "PubSubMessage(channel=$channel, pattern=$pattern, payload=${describe()})"

    private fun describe(): String {
        val valid =
            text ?: try {
                UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString()
            } catch (_: CharacterCodingException) {
                null
            }
        return when {
            valid == null -> {
                val hex = bytes.take(SHOWN_BYTES).joinToString("") { "%02x".format(it) }
                "${bytes.size} bytes 0x$hex${if (bytes.size > SHOWN_BYTES) "…" else ""}"
            }

            valid.length > SHOWN_CHARS -> {
                "${valid.take(SHOWN_CHARS)}… (${bytes.size} bytes)"
            }

            else -> {
                valid
            }
        }
    }

    private companion object {
        const val HASH = 31
        const val SHOWN_BYTES = 32
        const val SHOWN_CHARS = 200
    }
}
