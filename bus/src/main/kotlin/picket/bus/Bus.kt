package picket.bus

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.async
import kotlinx.coroutines.withContext
import picket.bus.internal.Interfaces
import picket.bus.internal.RealBus
import picket.bus.internal.RealBusCall
import picket.bus.internal.RealBusServer
import picket.bus.internal.Registrations
import picket.bus.internal.cleanup
import picket.bus.internal.decode
import picket.bus.internal.proxy
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.internal.handlers
import picket.core.internal.javaCalls
import java.time.Duration
import kotlin.reflect.KFunction

/**
 * An RPC bus on the master of [spec] (the seed's `redis_bus.Bus`): services [register] functions, [serve] runs
 * workers for them, and any instance of the same [name], in any process, discovers and [call]s them. Buses of one
 * name share their [BusSettings] and their method registry, which live in Redis.
 *
 * ```kotlin
 * val math = Bus(picket, "sample_playground", spec, prefix = "math_")
 * math.register(::sum, cacheKey = "{a}/{b}")       // exposed as math_sum
 * math.serve()                                       // workers for math_*
 *
 * val caller = Bus(picket, "sample_playground", spec)
 * caller.call("math_sum", 1, 2)                      // 3, from any process
 * ```
 *
 * From Java, every member that waits is on the [blocking] and [async] views, with the same names:
 *
 * ```java
 * service.blocking().register(MathApi.class, new MathImpl());  // MathApi.add, MathApi.range, …
 * service.blocking().serve("MathApi.*", 4, false);
 * int three = caller.proxy(MathApi.class).add(1, 2);
 * CompletableFuture<Object> five = caller.async().call("math_sum", 2, 3);
 * ```
 *
 * Requests travel through Redis lists; bus/README.md gives the key layout, the wire format (JSON) and the guarantees.
 * Close the bus when done: its registrations and workers leave the registry at once (a crashed one's leases expire
 * within [BusSettings.lease]).
 *
 * @property prefix put before the name of a function registered without a method name, and the default pattern of
 *   [serve] (the seed's "poor man's namespace").
 * The class is a facade: each member delegates to the instance in `internal/RealBus.kt` and its parts.
 *
 * @throws InvalidSpecException if [name] is blank or holds `{` or `}`.
 */
public class Bus
    @JvmOverloads
    constructor(
        public val picket: Picket,
        public val name: String,
        spec: ConnSpec,
        public val prefix: String = "",
        settings: BusSettings = BusSettings(),
        keyPrefix: String = DEFAULT_KEY_PREFIX,
    ) : AutoCloseable {
        /** A bus on [Picket.default]. */
        public constructor(name: String, spec: ConnSpec, prefix: String = "") : this(Picket.default, name, spec, prefix)

        private val real = RealBus(picket, name, spec, keyPrefix, settings)
        private val blockingView = BlockingBus(this)
        private val asyncView = AsyncBus(this)

        /** The spec the bus runs on (always its master). */
        public val spec: ConnSpec get() = real.spec

        /** This instance's id in the bus's keys (`proc:<id>`, `replies:<id>`) and leases. */
        public val instanceId: String get() = real.instance

        /** The settings in force: those stored in Redis by the first instance of this name. */
        @JvmSynthetic
        public suspend fun settings(): BusSettings = real.settings()

        /** This bus's calls for Java, each on the calling thread until it returns (interruptible): [BlockingBus]. */
        public fun blocking(): BlockingBus = blockingView

        /** This bus's calls for Java, each returning a `CompletableFuture`: [AsyncBus]. */
        public fun async(): AsyncBus = asyncView

        // ---- registering ----------------------------------------------------------------------------------------

        /**
         * Registers [function] as method [name] (default: [prefix] + the function's name), with its parameters' names
         * and types read by reflection: a suspend or plain function, a bound member (`service::sum`) or a member of
         * an `object`. Optional parameters keep their Kotlin defaults; [defaults] declares values callers should fill
         * in (needed when the [cacheKey] template names an optional parameter). Idempotent for the same definition.
         * A plain function may block: it runs on the Picket's handler executor.
         *
         * @param cacheKey a template over the parameter names, e.g. `"{a}/{b}"`: results are cached under it.
         * @param cacheTtl how long a cached result lives (null: the bus's [BusSettings.defaultCacheTtl]; zero: no
         *   expiry).
         * @return the method's name on the bus.
         * @throws InvalidRegistrationException if the name is taken by a different definition with a live owner, the
         *   template names an unknown parameter, a parameter has no name, …; nothing is stored then.
         */
        @JvmSynthetic
        public suspend fun register(
            function: KFunction<*>,
            name: String? = null,
            cacheKey: String? = null,
            cacheTtl: Duration? = null,
            defaults: Map<String, Any?> = emptyMap(),
        ): String {
            val method = name ?: (prefix + function.name)
            val instance = Registrations.receiver(method, function)
            real.registry.register(
                Registrations.ofFunction(method, function, instance, cacheKey, cacheTtl, defaults, picket.handlers()),
            )
            return method
        }

        /**
         * Registers every abstract method of interface [api], run by [implementation], each under the name the
         * naming rule gives: its [BusName] if it has one, else the interface's simple name (or its own [BusName]),
         * a dot and the method's name, e.g. `MathApi.add` (the bus's [prefix] is not added; serve them with
         * `serve("MathApi.*")` or a bus without prefix). Arguments and results are typed: JSON decoded to the
         * parameters' and read back to the results' generic types (`List<Point>`) by the bus's codec. Plain methods
         * run on the Picket's handler executor (they may block), suspend ones suspend, a `CompletableFuture` result
         * is awaited. Callers use [proxy] with the same interface.
         *
         * ```kotlin
         * bus.register(MathApi::class.java, MathImpl())   // MathApi.add, MathApi.range, …
         * val math = caller.proxy<MathApi>()              // math.add(1, 2) == 3
         * ```
         *
         * @return the methods' names on the bus, sorted.
         * @throws InvalidRegistrationException if [api] is not an interface, has overloads (two methods under one
         *   name: give each its own [BusName]), a parameter without a name (compile Java with `-parameters`), or a
         *   name is taken by a different live definition. Everything is checked before anything is stored, except
         *   the last, which Redis checks method by method (see bus/README.md, Limits).
         */
        @JvmSynthetic
        public suspend fun <I : Any> register(
            api: Class<I>,
            implementation: I,
        ): List<String> {
            val owned = Interfaces.ofInterface(api, implementation, picket.handlers())
            owned.forEach { real.registry.register(it) }
            return owned.map { it.entry.method }.sorted()
        }

        /**
         * Registers the public method [methodName] of [target] (a plain Java or Kotlin method, found by reflection;
         * it may block: it runs on the Picket's handler executor) as method [name] (default: [prefix] +
         * [methodName]). Its parameter names are read from the class file: compile Java with `-parameters`.
         *
         * @throws InvalidRegistrationException if [target] has no such public method, has several (overloads), a
         *   parameter has no name (compiled without `-parameters`), or as for [register].
         */
        @JvmSynthetic
        public suspend fun registerMethod(
            target: Any,
            methodName: String,
            name: String? = null,
            cacheKey: String? = null,
            cacheTtl: Duration? = null,
        ): String {
            val method = name ?: (prefix + methodName)
            real.registry.register(
                Registrations.ofJavaMethod(method, target, methodName, cacheKey, cacheTtl, picket.handlers()),
            )
            return method
        }

        /**
         * Registers [function], which takes the call's [BusArgs], as the method [definition] describes (its name is
         * used as given, without [prefix]).
         *
         * @throws InvalidRegistrationException as for the other form.
         */
        @JvmSynthetic
        public suspend fun register(
            definition: MethodDefinition,
            function: suspend (BusArgs) -> Any?,
        ): String {
            real.registry.register(Registrations.ofDefinition(definition, function))
            return definition.name
        }

        /** [register] of a [BusFunction] (which may block: it runs on the Picket's handler executor). */
        @JvmSynthetic
        public suspend fun register(
            definition: MethodDefinition,
            function: BusFunction,
        ): String = register(definition, Registrations.blocking(function, picket.handlers()))

        // ---- serving --------------------------------------------------------------------------------------------

        /**
         * Starts [concurrency] workers for this instance's registered methods that match the glob [pattern] (default:
         * [prefix] + `*`): fair across methods, FIFO within one; each call's deadline is checked when it is taken.
         * [debug] stops the workers at the first exception of a method and surfaces it ([BusServer.join] throws
         * [DebugStopException]), as the seed drops into pdb: never in production (it logs so, loudly).
         *
         * @throws NothingToServeException if no method registered here matches.
         */
        @JvmSynthetic
        public suspend fun serve(
            pattern: String = "$prefix*",
            concurrency: Int = 1,
            debug: Boolean = false,
        ): BusServer = RealBusServer.serve(real, pattern, concurrency, debug)

        /**
         * Handles one call of the methods matching [pattern] that arrives within [timeout], then returns (true), or
         * returns false if none came: for tests. With [debug], a method's exception is thrown here after the caller
         * got it.
         */
        @JvmSynthetic
        public suspend fun serveOnce(
            pattern: String = "$prefix*",
            timeout: Duration = Duration.ofSeconds(DEFAULT_SERVE_ONCE_SECONDS),
            debug: Boolean = false,
        ): Boolean = RealBusServer.serveOnce(real, pattern, timeout, debug)

        // ---- calling --------------------------------------------------------------------------------------------

        /** Calls [method] with [args] by position and the bus's default timeout; the result as plain values. */
        @JvmSynthetic
        public suspend fun call(
            method: String,
            vararg args: Any?,
        ): Any? = call(method, args.toList())

        /**
         * Calls [method] with [args] by position and [named] by name, waiting at most [timeout] (default: the bus's
         * [BusSettings.defaultTimeout]); returns the result as plain values (numbers, strings, lists, maps, null).
         * A cached result is returned without a worker being involved.
         *
         * @throws UnknownMethodException if no such method is registered.
         * @throws InvalidArgumentsException for an unknown or extra argument, or a missing one.
         * @throws ArgumentEncodingException for an argument that cannot be encoded.
         * @throws RemoteException if the method threw on its worker.
         * @throws NoWorkerException if no worker serves it, [CallTimeoutException] if none answered in time,
         *   [WorkerLostException] if the worker running it died.
         */
        @JvmSynthetic
        public suspend fun call(
            method: String,
            args: List<Any?>,
            named: Map<String, Any?> = emptyMap(),
            timeout: Duration? = null,
        ): Any? = decode(method, real.calls.call(method, args, named, timeout), Any::class.java)

        /** [call] with the result decoded as [type]. */
        @JvmSynthetic
        public suspend fun <T> call(
            type: Class<T>,
            method: String,
            args: List<Any?>,
            named: Map<String, Any?> = emptyMap(),
            timeout: Duration? = null,
        ): T = decode(method, real.calls.call(method, args, named, timeout), type)

        /**
         * Starts a call and returns its handle at once (the seed's `AsyncResult`): await its result as often as
         * wanted. The call runs even if nobody awaits it; its errors are those of [call].
         */
        @JvmOverloads
        public fun run(
            method: String,
            args: List<Any?> = emptyList(),
            named: Map<String, Any?> = emptyMap(),
            timeout: Duration? = null,
        ): BusCall {
            real.checkOpen()
            return RealBusCall(
                picket,
                method,
                real.scope.async(start = CoroutineStart.DEFAULT) { real.calls.call(method, args, named, timeout) },
            )
        }

        /**
         * An implementation of interface [type] whose methods are bus calls, arguments by position. A method calls its
         * [BusName] if it has one; else, without [prefix] (null), the name [register] of an interface implementation
         * gives it (`MathApi.add`), and with a [prefix], [prefix] + the method's name (methods registered one by
         * one). Suspend functions suspend, methods returning `CompletableFuture` call asynchronously, others block on
         * the calling thread, interruptibly ([picket.core.PicketInterruptedException]); results are decoded to the
         * declared, generic, return types.
         *
         * @throws picket.core.InvalidSpecException if [type] is not an interface.
         */
        @JvmOverloads
        public fun <T> proxy(
            type: Class<T>,
            prefix: String? = null,
        ): T = proxy(real, type, prefix)

        // ---- discovery, cache, cleanup --------------------------------------------------------------------------

        /** Every method registered on the bus (by any instance), with its parameters and live workers. */
        @JvmSynthetic
        public suspend fun methods(): List<MethodInfo> = real.registry.methods()

        /** The method [method] as discovered now, or null if it is not registered. */
        @JvmSynthetic
        public suspend fun method(method: String): MethodInfo? = methods().firstOrNull { it.name == method }

        /**
         * Drops the cached result of [method] for these arguments (bound and completed with defaults as a call
         * would); returns whether there was one.
         *
         * @throws InvalidArgumentsException if [method] has no cache, or the arguments do not fit.
         */
        @JvmSynthetic
        public suspend fun clearCache(
            method: String,
            vararg args: Any?,
        ): Boolean = real.cache.clear(method, args.toList(), emptyMap())

        /** [clearCache] with arguments by position and by name. */
        @JvmSynthetic
        public suspend fun clearCache(
            method: String,
            args: List<Any?>,
            named: Map<String, Any?>,
        ): Boolean = real.cache.clear(method, args, named)

        /**
         * Removes every key the bus stored (registry, settings, queues, replies, leases, cached results), found
         * through the bus's index and cache sets, never with `KEYS`; returns how many keys were deleted. Run it when
         * no service of the bus is running: a live one registers its methods again at its next heartbeat.
         */
        @JvmSynthetic
        public suspend fun cleanup(): Long = cleanup(real)

        /**
         * Stops this instance's workers (running calls get 10 s to finish), leaves the registry, fails pending calls.
         */
        override fun close() {
            // On the calling thread; runs to its end even if the Picket was closed first.
            runCatching {
                picket.javaCalls().blocking("close of bus '$name'") {
                    withContext(NonCancellable) { real.close(Duration.ofSeconds(DRAIN_SECONDS)) }
                }
            }
        }

        override fun toString(): String = "Bus($name, prefix='$prefix', instance=$instanceId)"

        public companion object {
            /** The default root of the bus's keys: `picket:bus:{name}:…`. */
            public const val DEFAULT_KEY_PREFIX: String = "picket:bus:"
            private const val DRAIN_SECONDS = 10L
            private const val DEFAULT_SERVE_ONCE_SECONDS = 5L
        }
    }

/** A bus named [name] on [spec]'s master; close it when done. */
@JvmOverloads
public fun Picket.bus(
    name: String,
    spec: ConnSpec,
    prefix: String = "",
    settings: BusSettings = BusSettings(),
): Bus = Bus(this, name, spec, prefix, settings)

/** Registers [implementation] as interface [I] ([Bus.register] of an interface); returns the methods' names. */
@JvmSynthetic
public suspend inline fun <reified I : Any> Bus.register(implementation: I): List<String> =
    register(I::class.java, implementation)

/** [Bus.call] with the result decoded as [T]. */
public suspend inline fun <reified T> Bus.callAs(
    method: String,
    vararg args: Any?,
): T = call(T::class.java, method, args.toList())

/** [Bus.proxy] for a reified interface type (without [prefix]: the names of an interface registration). */
public inline fun <reified T> Bus.proxy(prefix: String? = null): T = proxy(T::class.java, prefix)
