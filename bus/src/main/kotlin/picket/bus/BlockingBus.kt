package picket.bus

import picket.core.internal.javaCalls
import java.time.Duration

/**
 * The blocking form of [Bus], for Java and other callers without coroutines: [Bus.blocking]. Each method is the Kotlin
 * member of the same name, run on the calling thread until it returns, with the same results and typed errors.
 *
 * ```java
 * bus.blocking().register(MathApi.class, new MathImpl());   // MathApi.add, MathApi.range, …
 * int three = caller.proxy(MathApi.class).add(1, 2);         // a proxy's plain methods block the same way
 * Object five = caller.blocking().call("math_sum", 2, 3);
 * ```
 *
 * ## Threads
 * The whole call runs on the caller's thread (`engine/JavaCalls.kt` in core). Waits are interruptible: an interrupt
 * cancels the call (a queued request is taken back), which throws [picket.core.PicketInterruptedException] with the
 * thread's interrupt flag set again. The methods registered here are the user's code the bus calls itself: they run
 * on the Picket's handler executor, never on the caller's thread.
 */
public class BlockingBus internal constructor(
    private val bus: Bus,
) {
    private val java = bus.picket.javaCalls()

    /** [Bus.settings]: the settings in force. */
    public fun settings(): BusSettings = java.blocking("settings of bus '${bus.name}'") { bus.settings() }

    /**
     * [Bus.register] of an interface: every abstract method of [api], run by [implementation], under the names of
     * the naming rule (`MathApi.add`); returns them.
     */
    public fun <I : Any> register(
        api: Class<I>,
        implementation: I,
    ): List<String> = java.blocking("register of ${api.name}") { bus.register(api, implementation) }

    /** [Bus.register] of a [BusFunction] (it runs on the Picket's handler executor and may block). */
    public fun register(
        definition: MethodDefinition,
        function: BusFunction,
    ): String = java.blocking("register of '${definition.name}'") { bus.register(definition, function) }

    /** [Bus.registerMethod]: the public method [methodName] of [target], by reflection (`javac -parameters`). */
    @JvmOverloads
    public fun registerMethod(
        target: Any,
        methodName: String,
        name: String? = null,
        cacheKey: String? = null,
        cacheTtl: Duration? = null,
    ): String =
        java.blocking("register of '$methodName'") { bus.registerMethod(target, methodName, name, cacheKey, cacheTtl) }

    /** [Bus.serve]: starts workers for the methods matching [pattern] (default: the bus's prefix + `*`). */
    @JvmOverloads
    public fun serve(
        pattern: String = "${bus.prefix}*",
        concurrency: Int = 1,
        debug: Boolean = false,
    ): BusServer = java.blocking("serve of '$pattern'") { bus.serve(pattern, concurrency, debug) }

    /** [Bus.serveOnce]: handles one call arriving within [timeout]; false if none came. */
    @JvmOverloads
    public fun serveOnce(
        pattern: String = "${bus.prefix}*",
        timeout: Duration = Duration.ofSeconds(SERVE_ONCE_SECONDS),
        debug: Boolean = false,
    ): Boolean = java.blocking("serveOnce of '$pattern'") { bus.serveOnce(pattern, timeout, debug) }

    /** [Bus.call] with [args] by position; the result as plain values. */
    public fun call(
        method: String,
        vararg args: Any?,
    ): Any? = java.blocking(what(method)) { bus.call(method, args.toList()) }

    /** [Bus.call] with [args] by position and [named] by name, within [timeout]; the result as plain values. */
    @JvmOverloads
    public fun call(
        method: String,
        args: List<Any?>,
        named: Map<String, Any?> = emptyMap(),
        timeout: Duration? = null,
    ): Any? = java.blocking(what(method)) { bus.call(method, args, named, timeout) }

    /** [Bus.call] with the result decoded as [type]. */
    @JvmOverloads
    public fun <T> call(
        type: Class<T>,
        method: String,
        args: List<Any?>,
        named: Map<String, Any?> = emptyMap(),
        timeout: Duration? = null,
    ): T = java.blocking(what(method)) { bus.call(type, method, args, named, timeout) }

    /** [Bus.methods]: every method registered on the bus, with its parameters and live workers. */
    public fun methods(): List<MethodInfo> = java.blocking("methods of bus '${bus.name}'") { bus.methods() }

    /** [Bus.method]: [method] as discovered now, or null. */
    public fun method(method: String): MethodInfo? = java.blocking("method '$method'") { bus.method(method) }

    /** [Bus.clearCache] with [args] by position; whether there was a cached result. */
    public fun clearCache(
        method: String,
        vararg args: Any?,
    ): Boolean = java.blocking("clearCache of '$method'") { bus.clearCache(method, args.toList(), emptyMap()) }

    /** [Bus.clearCache] with [args] by position and [named] by name. */
    public fun clearCache(
        method: String,
        args: List<Any?>,
        named: Map<String, Any?>,
    ): Boolean = java.blocking("clearCache of '$method'") { bus.clearCache(method, args, named) }

    /** [Bus.cleanup]: removes every key the bus stored; returns how many were deleted. */
    public fun cleanup(): Long = java.blocking("cleanup of bus '${bus.name}'") { bus.cleanup() }

    private fun what(method: String): String = "bus call of '$method'"

    private companion object {
        const val SERVE_ONCE_SECONDS = 5L
    }
}
