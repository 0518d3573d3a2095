package picket.core.internal.execution

import io.lettuce.core.LettuceFutures
import io.lettuce.core.RedisAsyncCommandsImpl
import io.lettuce.core.RedisFuture
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import picket.core.InternalPicketApi
import picket.core.engine.Lease
import java.lang.reflect.Constructor
import java.lang.reflect.InvocationHandler
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Method
import java.lang.reflect.Proxy
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit

/**
 * Lettuce's synchronous and asynchronous commands on a lease's connection, in any [RedisCodec], counting each command
 * that completed in the lease's tracker as the Kotlin command surface does: a block that failed is run again only if
 * none of its commands had completed, so the Java forms must count too.
 *
 * Both are built on Lettuce's `RedisAsyncCommandsImpl` for the codec over the lease's connection: a command carries
 * its codec (its arguments and its output), so one connection serves every codec. The synchronous form calls the
 * asynchronous method of the same signature and waits for its future as Lettuce's own synchronous API does
 * (`LettuceFutures.awaitOrCancel` with the connection's timeout: an interrupt cancels the command and throws
 * `RedisCommandInterruptedException`, the flag set again).
 */
@OptIn(InternalPicketApi::class)
@Suppress("SpreadOperator") // asyncMethod looks a method up by its parameter types
internal object Tracked {
    /** The asynchronous method for each synchronous one: same name and parameters. */
    private val asyncOf = ConcurrentHashMap<Method, Method>()

    fun <K, V> sync(
        lease: Lease,
        codec: RedisCodec<K, V>,
    ): RedisCommands<K, V> {
        val connection = lease.connection.with(codec)
        val target = asyncCommands(connection, codec)
        val handler =
            InvocationHandler { proxy, method, args ->
                when {
                    method.declaringClass == Any::class.java -> {
                        objectMethod(proxy, method, args)
                    }

                    method.name == GET_STATEFUL_CONNECTION -> {
                        connection
                    }

                    else -> {
                        awaited(
                            lease,
                            connection,
                            method,
                            invoke(target, asyncOf[method] ?: asyncOf.computeIfAbsent(method, ::asyncMethod), args),
                        )
                    }
                }
            }
        @Suppress("UNCHECKED_CAST")
        return SYNC_PROXY.newInstance(handler) as RedisCommands<K, V>
    }

    fun <K, V> async(
        lease: Lease,
        codec: RedisCodec<K, V>,
    ): RedisAsyncCommands<K, V> {
        val target = asyncCommands(lease.connection.with(codec), codec)
        val handler =
            InvocationHandler { proxy, method, args ->
                if (method.declaringClass == Any::class.java) return@InvocationHandler objectMethod(proxy, method, args)
                val result = invoke(target, method, args)
                // A command counts once its reply came back without an error.
                if (result is RedisFuture<*>) {
                    result.whenComplete { _, error ->
                        if (error ==
                            null
                        ) {
                            lease.tracker.record()
                        }
                    }
                }
                result
            }
        @Suppress("UNCHECKED_CAST")
        return ASYNC_PROXY.newInstance(handler) as RedisAsyncCommands<K, V>
    }

    /**
     * Lettuce's asynchronous commands in [codec] on [connection]: the connection's own for UTF-8 strings (every data
     * connection is opened with `StringCodec.UTF8`), a new set for any other codec.
     */
    private fun <K, V> asyncCommands(
        connection: StatefulRedisConnection<K, V>,
        codec: RedisCodec<K, V>,
    ): RedisAsyncCommands<K, V> =
        if (codec === StringCodec.UTF8) connection.async() else RedisAsyncCommandsImpl(connection, codec)

    /**
     * The reply of a command's future, waited for as Lettuce's synchronous API does, and counted once it came back
     * without an error; anything else (`isOpen`, `setAutoFlushCommands`, …) as it is, not counted.
     */
    private fun awaited(
        lease: Lease,
        connection: StatefulRedisConnection<*, *>,
        method: Method,
        result: Any?,
    ): Any? {
        if (result !is RedisFuture<*>) return result
        // Between MULTI and EXEC a command is only queued: its reply comes with EXEC's. As Lettuce's own synchronous
        // API does, it returns null at once instead of waiting (its future completes at EXEC).
        if (connection.isMulti && method.name !in TRANSACTION_CONTROL) return null
        return LettuceFutures
            .awaitOrCancel(result, connection.timeout.toNanos(), TimeUnit.NANOSECONDS)
            .also { lease.tracker.record() }
    }

    private fun asyncMethod(sync: Method): Method =
        RedisAsyncCommands::class.java.getMethod(sync.name, *sync.parameterTypes)

    /** `equals`, `hashCode` and `toString` of the proxy itself. */
    private fun objectMethod(
        proxy: Any,
        method: Method,
        args: Array<out Any?>?,
    ): Any? =
        when (method.name) {
            "equals" -> proxy === args?.get(0)
            "hashCode" -> System.identityHashCode(proxy)
            else -> "picket commands on ${proxy.javaClass.interfaces.first().simpleName}"
        }

    private fun invoke(
        target: Any,
        method: Method,
        args: Array<out Any?>?,
    ): Any? =
        try {
            // Through a reference that takes the arguments as an array: a spread (`*args`) would copy it each call.
            INVOKE(method, target, args ?: NO_ARGS)
        } catch (e: InvocationTargetException) {
            throw e.targetException
        }

    /** The connection, typed for [codec]: commands carry their codec, so the connection's own does not matter. */
    @Suppress("UNCHECKED_CAST", "UnusedParameter")
    private fun <K, V> StatefulRedisConnection<*, *>.with(codec: RedisCodec<K, V>): StatefulRedisConnection<K, V> =
        this as StatefulRedisConnection<K, V>

    private val INVOKE: (Method, Any?, Array<out Any?>) -> Any? = Method::invoke
    private val NO_ARGS = emptyArray<Any?>()
    private const val GET_STATEFUL_CONNECTION = "getStatefulConnection"
    private val TRANSACTION_CONTROL = setOf("multi", "exec", "discard")

    /**
     * The constructors of the two proxy classes, looked up once: `Proxy.newProxyInstance` looks the class up in its
     * cache on every call, a measurable share of a synchronous command's cost.
     */
    private val SYNC_PROXY = proxyConstructor(RedisCommands::class.java)
    private val ASYNC_PROXY = proxyConstructor(RedisAsyncCommands::class.java)

    private fun proxyConstructor(type: Class<*>): Constructor<*> =
        Proxy
            .newProxyInstance(type.classLoader, arrayOf(type)) { _, _, _ -> null }
            .javaClass
            .getConstructor(InvocationHandler::class.java)
}
