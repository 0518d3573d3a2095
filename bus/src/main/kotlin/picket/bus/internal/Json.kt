package picket.bus.internal

import com.fasterxml.jackson.databind.DeserializationFeature
import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.SerializationFeature
import com.fasterxml.jackson.databind.node.JsonNodeFactory
import com.fasterxml.jackson.databind.node.ObjectNode
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule
import com.fasterxml.jackson.module.kotlin.jacksonObjectMapper
import picket.bus.ResultDecodingException
import java.lang.reflect.Type

/** The bus's JSON: Jackson with Kotlin classes and java.time values (as ISO-8601 strings). */
internal object Json {
    val mapper: ObjectMapper =
        jacksonObjectMapper()
            .registerModule(JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)

    val nodes: JsonNodeFactory = mapper.nodeFactory

    fun obj(): ObjectNode = nodes.objectNode()

    fun write(node: JsonNode): String = mapper.writeValueAsString(node)

    fun read(text: String): JsonNode = mapper.readTree(text)

    /**
     * A value's text in a cache key: its JSON, so that values cannot collide (`1` and `"1"` differ, and a quoted
     * string keeps its own `/`: `("1/2", "3")` and `("1", "2/3")` are two keys).
     */
    fun keyText(node: JsonNode?): String = if (node == null) "null" else write(node)
}

/** [node] as plain values (numbers, strings, lists, maps, null). */
internal fun decodePlain(node: JsonNode): Any? = Json.mapper.treeToValue(node, Any::class.java)

/** [node] decoded as [type]; a mismatch is a [ResultDecodingException]. */
internal fun <T> decode(
    method: String,
    node: JsonNode?,
    type: Type,
): T {
    val javaType = Json.mapper.typeFactory.constructType(type)
    return try {
        Json.mapper.convertValue(node ?: Json.nodes.nullNode(), javaType)
    } catch (e: IllegalArgumentException) {
        throw ResultDecodingException(method, javaType.toCanonical(), e)
    }
}

/** A parameter in the registry (wire format: bus/README.md). */
internal data class ParamEntry(
    val name: String,
    val type: String,
    val required: Boolean,
    val default: JsonNode? = null,
    val hasDefault: Boolean = false,
)

/** A method in the registry hash (wire format: bus/README.md). Compared as text: the same text is the same method. */
internal data class RegistryEntry(
    val method: String,
    val params: List<ParamEntry>,
    val returns: String,
    val cacheKey: String?,
    val cacheTtlMs: Long?,
    val source: String,
) {
    fun toJson(): String = Json.mapper.writeValueAsString(this)

    companion object {
        fun parse(text: String): RegistryEntry = Json.mapper.readValue(text, RegistryEntry::class.java)
    }
}
