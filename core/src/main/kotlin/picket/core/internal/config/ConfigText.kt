package picket.core.internal.config

import java.io.ByteArrayOutputStream
import java.time.Duration
import java.time.format.DateTimeParseException
import java.util.Locale

/**
 * Values written as text in URIs and properties: durations, booleans, numbers, percent-encoding. One reading for
 * every configuration source, so that `timeout=500ms` in a URI and `command-timeout=500ms` in properties agree.
 */
internal object ConfigText {
    private val UNITS: Map<String, (Long) -> Duration> =
        mapOf(
            "ns" to Duration::ofNanos,
            "us" to { n -> Duration.ofNanos(Math.multiplyExact(n, NANOS_PER_MICRO)) },
            "ms" to Duration::ofMillis,
            "s" to Duration::ofSeconds,
            "m" to Duration::ofMinutes,
            "h" to Duration::ofHours,
            "d" to Duration::ofDays,
        )
    private const val NANOS_PER_MICRO = 1_000L
    private const val HEX = 16
    private val AMOUNT = Regex("""(\d+)([a-zA-Z]*)""")

    /** How a duration may be written, for error messages. */
    const val DURATION_FORMS: String = "ISO-8601 (PT2S) or a number with a unit: ns, us, ms, s, m, h, d (500ms, 2s)"

    /**
     * [text] as a duration: ISO-8601 (`PT2S`), or a whole number with one of Lettuce's units `ns us ms s m h d`
     * (`500ms`, `2s`; no unit means milliseconds, as in Lettuce's `timeout=`). Null if it is neither.
     */
    fun duration(text: String): Duration? {
        val trimmed = text.trim()
        if (trimmed.startsWith("P", ignoreCase = true) || trimmed.startsWith("-P", ignoreCase = true)) {
            return try {
                Duration.parse(trimmed)
            } catch (_: DateTimeParseException) {
                null
            }
        }
        val match = AMOUNT.matchEntire(trimmed) ?: return null
        val amount = match.groupValues[1].toLongOrNull() ?: return null
        val unit = match.groupValues[2].lowercase(Locale.ROOT).ifEmpty { "ms" }
        val of = UNITS[unit] ?: return null
        return try {
            of(amount)
        } catch (_: ArithmeticException) {
            null
        }
    }

    /** `true` or `false` (any case), else null. */
    fun boolean(text: String): Boolean? =
        when (text.trim().lowercase(Locale.ROOT)) {
            "true" -> true
            "false" -> false
            else -> null
        }

    /**
     * [text] with its `%XX` sequences decoded as UTF-8 (a `+` stays a `+`, as RFC 3986 says), or null if a `%` is not
     * followed by two hex digits.
     */
    fun percentDecoded(text: String): String? {
        if ('%' !in text) return text
        val bytes = ByteArrayOutputStream()
        var i = 0
        while (i < text.length) {
            val c = text[i]
            if (c == '%') {
                if (i + 2 >= text.length) return null
                val byte = text.substring(i + 1, i + 3).toIntOrNull(HEX) ?: return null
                bytes.write(byte)
                i += 3
            } else {
                bytes.write(c.toString().toByteArray(Charsets.UTF_8))
                i += 1
            }
        }
        return bytes.toString(Charsets.UTF_8)
    }
}
