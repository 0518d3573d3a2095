package picket.monitor.internal

import picket.core.InvalidSpecException
import picket.monitor.InfoQuery
import picket.monitor.Role
import java.net.URLDecoder
import java.time.Duration

/** An HTTP query string as an [InfoQuery] and how to write the answer; unknown or malformed parameters are refused. */
internal class HttpQuery(
    val query: InfoQuery,
    val writer: JsonWriter,
) {
    companion object {
        private val NAMES =
            setOf("node", "group", "master", "role", "key", "prefix", "section", "allow_partial", "max_age", "int64")

        fun parse(raw: String?): HttpQuery {
            val params = LinkedHashMap<String, MutableList<String>>()
            raw
                ?.split('&')
                ?.filter { it.isNotEmpty() }
                ?.forEach { pair ->
                    val name = decode(pair.substringBefore('='))
                    if (name !in
                        NAMES
                    ) {
                        throw InvalidSpecException(
                            "unknown parameter '$name' (known: ${NAMES.sorted().joinToString()})",
                        )
                    }
                    params.getOrPut(name) { mutableListOf() } +=
                        decode(pair.substringAfter('=', "")).split(',').filter { it.isNotEmpty() }
                }
            val query =
                InfoQuery(
                    nodes = params["node"].orEmpty(),
                    group = single(params, "group"),
                    masterName = single(params, "master"),
                    role = single(params, "role")?.let(::role),
                    keys = params["key"].orEmpty(),
                    prefixMatching = flag(params, "prefix"),
                    sections = params["section"].orEmpty(),
                    allowPartial = flag(params, "allow_partial"),
                    maxAge = single(params, "max_age")?.let(::seconds),
                )
            val int64 = single(params, "int64") ?: "number"
            if (int64 != "number" &&
                int64 != "string"
            ) {
                throw InvalidSpecException("int64 is '$int64', must be number or string")
            }
            return HttpQuery(query, JsonWriter(int64AsString = int64 == "string"))
        }

        /** A malformed escape (`%zz`) is the request's fault: a 400 naming it, not a 500. */
        private fun decode(text: String): String =
            try {
                URLDecoder.decode(text, Charsets.UTF_8)
            } catch (
                // Its message is all there is to keep: it goes into the 400's text.
                @Suppress("SwallowedException") e: IllegalArgumentException,
            ) {
                throw InvalidSpecException("malformed percent-encoding in '$text': ${e.message}")
            }

        private fun single(
            params: Map<String, List<String>>,
            name: String,
        ): String? {
            val values = params[name] ?: return null
            if (values.size > 1) throw InvalidSpecException("parameter '$name' is given ${values.size} times: $values")
            return values.singleOrNull()
        }

        private fun flag(
            params: Map<String, List<String>>,
            name: String,
        ): Boolean =
            when (val value = single(params, name) ?: params[name]?.let { "" }) {
                null, "false" -> false
                "true", "" -> true
                else -> throw InvalidSpecException("parameter '$name' is '$value', must be true or false")
            }

        private fun role(text: String): Role =
            Role.entries.firstOrNull { it.name.equals(text, ignoreCase = true) }
                ?: throw InvalidSpecException(
                    "role '$text' is not one of ${Role.entries.joinToString { it.name.lowercase() }}",
                )

        private fun seconds(text: String): Duration {
            val value = text.toDoubleOrNull()
            if (value == null || value < 0 || value.isNaN()) {
                throw InvalidSpecException("max_age '$text' is not a number of seconds >= 0")
            }
            return Duration.ofNanos((value * NANOS_PER_SECOND).toLong())
        }

        private const val NANOS_PER_SECOND = 1e9
    }
}
