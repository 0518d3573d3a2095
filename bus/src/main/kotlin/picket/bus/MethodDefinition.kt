package picket.bus

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * A parameter of a bus method: its [name], a [type] shown to callers (informational), and whether it is [required];
 * an optional one may carry a [default] that callers fill in (so a cache template can name it).
 */
public class Param private constructor(
    public val name: String,
    public val type: String,
    public val required: Boolean,
    public val hasDefault: Boolean,
    public val default: Any?,
) {
    override fun toString(): String =
        if (hasDefault) {
            "$name: $type = $default"
        } else if (required) {
            "$name: $type"
        } else {
            "$name: $type = …"
        }

    public companion object {
        /** A parameter that every call must pass. */
        @JvmStatic
        @JvmOverloads
        public fun required(
            name: String,
            type: String = "any",
        ): Param = Param(checked(name), type, required = true, hasDefault = false, default = null)

        /** A parameter that callers may leave out; [default] is filled in for them. */
        @JvmStatic
        @JvmOverloads
        public fun optional(
            name: String,
            default: Any?,
            type: String = "any",
        ): Param = Param(checked(name), type, required = false, hasDefault = true, default = default)

        /** An optional parameter whose default only the function knows (a Kotlin default value). */
        internal fun optionalUnknown(
            name: String,
            type: String,
        ): Param = Param(checked(name), type, required = false, hasDefault = false, default = null)

        private fun checked(name: String): String {
            if (name.isBlank()) throw InvalidSpecException("a bus method parameter's name is blank")
            return name
        }
    }
}

/**
 * What a bus method is, for registration with a function that takes [BusArgs] (Java, or Kotlin lambdas): its [name]
 * (the bus's prefix is not added), its [params] in positional order, an optional [cacheKey] template over the
 * parameter names (`"{a}/{b}"`) and the [cacheTtl] of its cached results (null: the bus's default; zero: no
 * expiry).
 *
 * ```java
 * MethodDefinition sum = MethodDefinition.builder("math_sum").param("a").param("b").cacheKey("{a}/{b}").build();
 * ```
 */
public class MethodDefinition
    @JvmOverloads
    constructor(
        public val name: String,
        public val params: List<Param>,
        public val cacheKey: String? = null,
        public val cacheTtl: Duration? = null,
        /** Shown to callers: the result's type. */
        public val returns: String = "any",
    ) {
        /** Builds a [MethodDefinition] step by step (Java). */
        public class Builder internal constructor(
            private val name: String,
        ) {
            private val params = mutableListOf<Param>()
            private var cacheKey: String? = null
            private var cacheTtl: Duration? = null
            private var returns = "any"

            /** A required parameter. */
            public fun param(name: String): Builder = apply { params += Param.required(name) }

            /** An optional parameter with its [default]. */
            public fun param(
                name: String,
                default: Any?,
            ): Builder = apply { params += Param.optional(name, default) }

            /** A parameter as given. */
            public fun param(param: Param): Builder = apply { params += param }

            /** The cache template over parameter names, e.g. `"{a}/{b}"`. */
            public fun cacheKey(template: String): Builder = apply { cacheKey = template }

            /** The TTL of cached results. */
            public fun cacheTtl(ttl: Duration): Builder = apply { cacheTtl = ttl }

            /** Cached results never expire (until cleared). */
            public fun cacheForever(): Builder = apply { cacheTtl = Duration.ZERO }

            /** The result's type, as callers see it. */
            public fun returns(type: String): Builder = apply { returns = type }

            /** The definition. */
            public fun build(): MethodDefinition = MethodDefinition(name, params.toList(), cacheKey, cacheTtl, returns)
        }

        public companion object {
            /** A builder for method [name]. */
            @JvmStatic
            public fun builder(name: String): Builder = Builder(name)
        }
    }

/** A parameter of a discovered method, as the registry holds it. */
public data class ParamInfo(
    val name: String,
    val type: String,
    val required: Boolean,
    val hasDefault: Boolean,
    val default: Any?,
)

/**
 * A method registered on the bus, as any instance discovers it: its parameters in positional order, the result type,
 * the cache template and TTL (null: no expiry), where it was registered from, and how many live workers serve it.
 */
public data class MethodInfo(
    val name: String,
    val params: List<ParamInfo>,
    val returns: String,
    val cacheKey: String?,
    val cacheTtl: Duration?,
    val source: String,
    val workers: Int,
) {
    override fun toString(): String =
        "$name(${params.joinToString { p ->
            p.name + ": " + p.type + (
                if (p.hasDefault) {
                    " = ${p.default}"
                } else if (!p.required) {
                    " = …"
                } else {
                    ""
                }
            )
        }}): $returns" + (cacheKey?.let { " cached by '$it'" } ?: "") + " [$workers workers]"
}
