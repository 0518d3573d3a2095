package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import picket.bus.ArgumentEncodingException
import picket.bus.InvalidArgumentsException
import picket.bus.InvalidRegistrationException

/** Binds a call's positional and named arguments to [entry]'s parameters, as JSON; renders cache keys. */
internal object Binding {
    private val PLACEHOLDER = Regex("\\{([^{}]*)}")

    /**
     * Positional arguments take the parameters in order, named ones by name; defaults the registry knows are filled in,
     * optional parameters without one are left out (the function's own default applies).
     *
     * @throws InvalidArgumentsException for too many positional arguments, an unknown name, one given twice, a missing
     *   required one.
     * @throws ArgumentEncodingException for a value Jackson cannot encode.
     */
    fun bind(
        entry: RegistryEntry,
        positional: List<Any?>,
        named: Map<String, Any?>,
    ): Map<String, JsonNode> {
        val method = entry.method
        val params = entry.params
        if (positional.size > params.size) {
            throw InvalidArgumentsException(
                method,
                "it takes ${params.size} argument(s) (${params.joinToString { it.name }}), ${positional.size} given",
            )
        }
        val names = params.map { it.name }.toSet()
        named.keys.firstOrNull { it !in names }?.let { unknown ->
            throw InvalidArgumentsException(
                method,
                "no parameter named '$unknown' (parameters: ${names.joinToString().ifEmpty { "none" }})",
            )
        }
        val bound = LinkedHashMap<String, JsonNode>()
        params.forEachIndexed { i, param ->
            val given = i < positional.size
            if (given && named.containsKey(param.name)) {
                throw InvalidArgumentsException(method, "argument '${param.name}' given both by position and by name")
            }
            when {
                given -> bound[param.name] = encode(method, param.name, positional[i])
                named.containsKey(param.name) -> bound[param.name] = encode(method, param.name, named[param.name])
                param.hasDefault -> bound[param.name] = param.default ?: Json.nodes.nullNode()
                param.required -> throw InvalidArgumentsException(method, "missing argument '${param.name}'")
            }
        }
        return bound
    }

    fun encode(
        method: String,
        name: String,
        value: Any?,
    ): JsonNode =
        try {
            Json.mapper.valueToTree<JsonNode>(value) ?: Json.nodes.nullNode()
        } catch (
            @Suppress("TooGenericExceptionCaught") e: RuntimeException,
        ) {
            throw ArgumentEncodingException(method, name, e)
        }

    /** The names a cache template uses. */
    fun placeholders(template: String): List<String> = PLACEHOLDER.findAll(template).map { it.groupValues[1] }.toList()

    /** Checks [template] against [params] at registration. */
    fun checkTemplate(
        method: String,
        template: String,
        params: List<ParamEntry>,
    ) {
        if (template.isBlank()) throw InvalidRegistrationException(method, "its cache template is blank")
        val byName = params.associateBy { it.name }
        placeholders(template).forEach { name ->
            val param =
                byName[name] ?: throw InvalidRegistrationException(
                    method,
                    "its cache template '$template' names '$name', which is not one of its parameters " +
                        "(${byName.keys.joinToString().ifEmpty { "none" }})",
                )
            if (!param.required && !param.hasDefault) {
                throw InvalidRegistrationException(
                    method,
                    "its cache template '$template' names '$name', an optional parameter whose default value the " +
                        "bus cannot see: declare it (defaults = mapOf(\"$name\" to …))",
                )
            }
        }
    }

    /** [template] with every `{name}` replaced by the bound argument's text. */
    fun render(
        template: String,
        bound: Map<String, JsonNode>,
    ): String = PLACEHOLDER.replace(template) { match -> Json.keyText(bound[match.groupValues[1]]) }
}
