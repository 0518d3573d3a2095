package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.runInterruptible
import picket.bus.ArgumentEncodingException
import picket.bus.BusArgs
import picket.bus.BusFunction
import picket.bus.InvalidRegistrationException
import picket.bus.MethodDefinition
import java.lang.reflect.Modifier
import java.time.Duration
import kotlin.reflect.KClass
import kotlin.reflect.KFunction
import kotlin.reflect.KParameter
import kotlin.reflect.jvm.javaMethod
import kotlin.reflect.jvm.kotlinFunction

/**
 * What users register, turned into what the [Registry] stores: a [RegistryEntry] (parameters, result type, cache
 * template and TTL, source) and the [Invoker] that runs it. A Kotlin function's parameters are read by reflection; a
 * Java method is found by name on its object; a [MethodDefinition] is taken as declared.
 */
internal object Registrations {
    /**
     * [function] as method [method]: its receiver is [instance] (a bound or static function: null), its parameters
     * read by reflection, [defaults] stored for callers to fill in.
     *
     * @throws InvalidRegistrationException for a parameter without a name, a default that names no parameter or
     *   cannot be encoded.
     */
    fun ofFunction(
        method: String,
        function: KFunction<*>,
        instance: Any?,
        cacheKey: String?,
        cacheTtl: Duration?,
        defaults: Map<String, Any?>,
        handlers: CoroutineDispatcher,
    ): Owned {
        val values = function.parameters.filter { it.kind == KParameter.Kind.VALUE }
        val params =
            values.mapIndexed { i, p ->
                val paramName =
                    p.name ?: throw InvalidRegistrationException(
                        method,
                        "parameter ${i + 1} has no name (compile Java with -parameters)",
                    )
                val type = p.type.toString().removePrefix("kotlin.")
                when {
                    defaults.containsKey(paramName) -> {
                        ParamEntry(paramName, type, false, encodeDefault(method, paramName, defaults[paramName]), true)
                    }

                    else -> {
                        ParamEntry(paramName, type, required = !p.isOptional)
                    }
                }
            }
        defaults.keys.firstOrNull { d -> params.none { it.name == d } }?.let {
            throw InvalidRegistrationException(method, "defaults name '$it', which is not one of its parameters")
        }
        val source = function.javaMethod?.let { it.declaringClass.name + "." + it.name } ?: function.toString()
        val entry =
            RegistryEntry(
                method,
                params,
                function.returnType.toString().removePrefix("kotlin."),
                cacheKey,
                ResultsCache.ttlMs(cacheKey, cacheTtl),
                source,
            )
        return Owned(entry, FunctionInvoker(function, instance, handlers))
    }

    /**
     * The public method [methodName] of [target] as method [method] (a static one without its receiver).
     *
     * @throws InvalidRegistrationException if [target] has no such public method, several (overloads), or one
     *   Kotlin reflection cannot see; or as for [ofFunction].
     */
    fun ofJavaMethod(
        method: String,
        target: Any,
        methodName: String,
        cacheKey: String?,
        cacheTtl: Duration?,
        handlers: CoroutineDispatcher,
    ): Owned {
        val candidates = target.javaClass.methods.filter { it.name == methodName && !it.isBridge }
        val javaMethod =
            candidates.singleOrNull()
                ?: throw InvalidRegistrationException(
                    method,
                    if (candidates.isEmpty()) {
                        "${target.javaClass.name} has no public method named '$methodName'"
                    } else {
                        "${target.javaClass.name} has ${candidates.size} public methods named '$methodName' " +
                            "(overloads): register one through a MethodDefinition"
                    },
                )
        val function =
            javaMethod.kotlinFunction
                ?: throw InvalidRegistrationException(method, "$javaMethod cannot be seen by Kotlin reflection")
        val instance = if (Modifier.isStatic(javaMethod.modifiers)) null else target
        return ofFunction(method, function, instance, cacheKey, cacheTtl, emptyMap(), handlers)
    }

    /** [function], a function of the call's [BusArgs], as [definition] declares it (its name as given). */
    fun ofDefinition(
        definition: MethodDefinition,
        function: suspend (BusArgs) -> Any?,
    ): Owned {
        val params =
            definition.params.map { p ->
                if (p.hasDefault) {
                    ParamEntry(p.name, p.type, false, encodeDefault(definition.name, p.name, p.default), true)
                } else {
                    ParamEntry(p.name, p.type, p.required)
                }
            }
        val entry =
            RegistryEntry(
                definition.name,
                params,
                definition.returns,
                definition.cacheKey,
                ResultsCache.ttlMs(definition.cacheKey, definition.cacheTtl),
                "lambda",
            )
        return Owned(entry, ArgsInvoker(function))
    }

    /**
     * [function] (Java's form, which may block) as a function of [BusArgs] that runs it on [handlers] (the Picket's
     * handler executor), interruptibly.
     */
    fun blocking(
        function: BusFunction,
        handlers: CoroutineDispatcher,
    ): suspend (BusArgs) -> Any? = { args -> runInterruptible(handlers) { function.call(args) } }

    /**
     * The receiver [function] needs: none, or the instance of the `object` that declares it.
     *
     * @throws InvalidRegistrationException if it needs an instance of a class (an unbound member reference).
     */
    fun receiver(
        method: String,
        function: KFunction<*>,
    ): Any? {
        val receiver = function.parameters.firstOrNull { it.kind != KParameter.Kind.VALUE } ?: return null
        val owner = (receiver.type.classifier as? KClass<*>)
        return owner?.objectInstance
            ?: throw InvalidRegistrationException(
                method,
                "it needs a receiver of type ${receiver.type}: register a bound reference (instance::function)",
            )
    }

    private fun encodeDefault(
        method: String,
        param: String,
        value: Any?,
    ): JsonNode =
        try {
            Binding.encode(method, param, value)
        } catch (e: ArgumentEncodingException) {
            // Jackson's own error, as before: the encoding exception only wraps it.
            val cause = e.cause ?: e
            throw InvalidRegistrationException(
                method,
                "the default of '$param' cannot be encoded as JSON: ${cause.message}",
                cause = cause,
            )
        }
}
