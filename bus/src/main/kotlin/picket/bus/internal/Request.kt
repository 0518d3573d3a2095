package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode

/** A request as a worker reads it from a queue (wire format: bus/README.md); [element] is its text there. */
internal class Request(
    val element: String,
    val id: String,
    val replyTo: String,
    val deadline: Long,
    val cacheKey: String?,
    val args: Map<String, JsonNode>,
) {
    companion object {
        /** The request in queue element [element], or null if it is not one. */
        fun parse(element: String): Request? {
            val node = runCatching { Json.read(element) }.getOrNull() ?: return null
            val id = node.get("id")?.asText() ?: return null
            val replyTo = node.get("replyTo")?.asText() ?: return null
            val deadline = node.get("deadline")?.asLong() ?: return null
            val args =
                node
                    .get("args")
                    ?.properties()
                    ?.associate { it.key to it.value }
                    .orEmpty()
            val cacheKey = node.get("cacheKey")?.takeUnless { it.isNull }?.asText()
            return Request(element, id, replyTo, deadline, cacheKey, args)
        }
    }
}

/** A call a worker took: run it, or reply with [cached] (a result cached while it was queued). */
internal class Taken(
    val method: String,
    val request: Request,
    val cached: String?,
)
