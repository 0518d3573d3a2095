package picket.bus

import com.fasterxml.jackson.databind.JsonNode
import picket.bus.internal.Json

/**
 * The arguments of one call, by parameter name, for functions registered with a [MethodDefinition]: each is decoded
 * from JSON into the type asked for.
 *
 * ```java
 * bus.registerBlocking(definition, args -> args.getInt("a") + args.getInt("b"));
 * ```
 */
public class BusArgs internal constructor(
    /** The method being called. */
    public val method: String,
    private val values: Map<String, JsonNode>,
) {
    /** The parameter names the call carries. */
    public val names: Set<String> get() = values.keys

    /** Whether the call carries [name]. */
    public fun has(name: String): Boolean = values.containsKey(name)

    /**
     * Argument [name] decoded as [type].
     *
     * @throws IllegalArgumentException if the call has no such argument, or it does not decode as [type].
     */
    public fun <T> get(
        name: String,
        type: Class<T>,
    ): T {
        val node = values[name] ?: throw IllegalArgumentException("bus method '$method' got no argument '$name'")
        return Json.mapper.convertValue(node, type)
    }

    /** Argument [name] as an Int. */
    public fun getInt(name: String): Int = get(name, Int::class.javaObjectType)

    /** Argument [name] as a Long. */
    public fun getLong(name: String): Long = get(name, Long::class.javaObjectType)

    /** Argument [name] as a Double. */
    public fun getDouble(name: String): Double = get(name, Double::class.javaObjectType)

    /** Argument [name] as a Boolean. */
    public fun getBoolean(name: String): Boolean = get(name, Boolean::class.javaObjectType)

    /** Argument [name] as a String (null if the caller passed null). */
    public fun getString(name: String): String? =
        values[name]?.takeUnless { it.isNull }?.let { get(name, String::class.java) }

    /** Every argument decoded as plain values (numbers, strings, lists, maps). */
    public fun asMap(): Map<String, Any?> =
        values.mapValues { (_, node) ->
            Json.mapper.treeToValue(node, Any::class.java)
        }

    override fun toString(): String = "BusArgs($method, ${values.keys})"
}

/** Argument [name] decoded as [T]. */
public inline fun <reified T> BusArgs.arg(name: String): T = get(name, T::class.java)

/** A bus method written as a function of its [BusArgs]: Java lambdas, and Kotlin code that wants the raw arguments. */
public fun interface BusFunction {
    /** Runs the method; the result is encoded as JSON, an exception reaches the caller as a [RemoteException]. */
    @Throws(Exception::class)
    public fun call(args: BusArgs): Any?
}

/** Names the bus method that a proxy interface's method calls, instead of the proxy's prefix + the method's name. */
@Target(AnnotationTarget.FUNCTION)
@Retention(AnnotationRetention.RUNTIME)
public annotation class BusName(
    val value: String,
)
