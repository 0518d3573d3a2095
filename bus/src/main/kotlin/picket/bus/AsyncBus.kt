package picket.bus

import picket.core.internal.javaCalls
import java.time.Duration
import java.util.concurrent.CompletableFuture

/**
 * The future form of [Bus], for Java callers that compose futures: [Bus.async]. Each method is the Kotlin member of
 * the same name, started at once; its future completes with the result or the same typed error. Cancelling a future
 * cancels what it waits for (a cancelled call takes its queued request back).
 *
 * ```java
 * caller.async().call(Integer.class, "MathApi.add", List.of(1, 2)).thenAccept(n -> log.info("sum {}", n));
 * ```
 *
 * Callbacks run on the thread that completes the future (a Lettuce or Picket thread): hand long work to an executor
 * of your own, and never wait for another Picket call there.
 */
public class AsyncBus internal constructor(
    private val bus: Bus,
) {
    private val java = bus.picket.javaCalls()

    /** [Bus.settings]: the settings in force. */
    public fun settings(): CompletableFuture<BusSettings> = java.async { bus.settings() }

    /** [Bus.register] of an interface implementation; gives the methods' names. */
    public fun <I : Any> register(
        api: Class<I>,
        implementation: I,
    ): CompletableFuture<List<String>> = java.async { bus.register(api, implementation) }

    /** [Bus.register] of a [BusFunction] (it runs on the Picket's handler executor and may block). */
    public fun register(
        definition: MethodDefinition,
        function: BusFunction,
    ): CompletableFuture<String> = java.async { bus.register(definition, function) }

    /** [Bus.registerMethod]: the public method [methodName] of [target], by reflection (`javac -parameters`). */
    @JvmOverloads
    public fun registerMethod(
        target: Any,
        methodName: String,
        name: String? = null,
        cacheKey: String? = null,
        cacheTtl: Duration? = null,
    ): CompletableFuture<String> = java.async { bus.registerMethod(target, methodName, name, cacheKey, cacheTtl) }

    /** [Bus.serve]: starts workers for the methods matching [pattern] (default: the bus's prefix + `*`). */
    @JvmOverloads
    public fun serve(
        pattern: String = "${bus.prefix}*",
        concurrency: Int = 1,
        debug: Boolean = false,
    ): CompletableFuture<BusServer> = java.async { bus.serve(pattern, concurrency, debug) }

    /** [Bus.serveOnce]: handles one call arriving within [timeout]; false if none came. */
    @JvmOverloads
    public fun serveOnce(
        pattern: String = "${bus.prefix}*",
        timeout: Duration = Duration.ofSeconds(SERVE_ONCE_SECONDS),
        debug: Boolean = false,
    ): CompletableFuture<Boolean> = java.async { bus.serveOnce(pattern, timeout, debug) }

    /** [Bus.call] with [args] by position; the result as plain values. */
    public fun call(
        method: String,
        vararg args: Any?,
    ): CompletableFuture<Any?> {
        val list = args.toList()
        return java.async { bus.call(method, list) }
    }

    /** [Bus.call] with [args] by position and [named] by name, within [timeout]; the result as plain values. */
    @JvmOverloads
    public fun call(
        method: String,
        args: List<Any?>,
        named: Map<String, Any?> = emptyMap(),
        timeout: Duration? = null,
    ): CompletableFuture<Any?> = java.async { bus.call(method, args, named, timeout) }

    /** [Bus.call] with the result decoded as [type]. */
    @JvmOverloads
    public fun <T> call(
        type: Class<T>,
        method: String,
        args: List<Any?>,
        named: Map<String, Any?> = emptyMap(),
        timeout: Duration? = null,
    ): CompletableFuture<T> = java.async { bus.call(type, method, args, named, timeout) }

    /** [Bus.methods]: every method registered on the bus, with its parameters and live workers. */
    public fun methods(): CompletableFuture<List<MethodInfo>> = java.async { bus.methods() }

    /** [Bus.method]: [method] as discovered now, or null. */
    public fun method(method: String): CompletableFuture<MethodInfo?> = java.async { bus.method(method) }

    /** [Bus.clearCache] with [args] by position; whether there was a cached result. */
    public fun clearCache(
        method: String,
        vararg args: Any?,
    ): CompletableFuture<Boolean> {
        val list = args.toList()
        return java.async { bus.clearCache(method, list, emptyMap()) }
    }

    /** [Bus.clearCache] with [args] by position and [named] by name. */
    public fun clearCache(
        method: String,
        args: List<Any?>,
        named: Map<String, Any?>,
    ): CompletableFuture<Boolean> = java.async { bus.clearCache(method, args, named) }

    /** [Bus.cleanup]: removes every key the bus stored; gives how many were deleted. */
    public fun cleanup(): CompletableFuture<Long> = java.async { bus.cleanup() }

    private companion object {
        const val SERVE_ONCE_SECONDS = 5L
    }
}
