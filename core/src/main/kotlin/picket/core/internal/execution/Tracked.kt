package picket.core.internal.execution

import io.lettuce.core.RedisFuture
import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.api.sync.RedisCommands
import picket.core.InternalPicketApi
import picket.core.engine.Lease
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Proxy

/**
 * Lettuce's synchronous and asynchronous commands of a lease's connection, counting each command that completed in
 * the lease's tracker, as the Kotlin command surface does: a block that failed is run again only if none of its
 * commands had completed, so the Java forms must count too.
 */
@OptIn(InternalPicketApi::class)
@Suppress("SpreadOperator") // reflection passes the proxied call's arguments on as varargs
internal object Tracked {
    @Suppress("UNCHECKED_CAST")
    fun sync(lease: Lease): RedisCommands<String, String> {
        val target = lease.connection.sync()
        return Proxy.newProxyInstance(
            RedisCommands::class.java.classLoader,
            arrayOf(RedisCommands::class.java),
        ) { _, method, args ->
            if (method.declaringClass ==
                Any::class.java
            ) {
                return@newProxyInstance method.invoke(target, *(args ?: emptyArray()))
            }
            lease.tracker.track { invoke(target, method, args) }
        } as RedisCommands<String, String>
    }

    @Suppress("UNCHECKED_CAST")
    fun async(lease: Lease): RedisAsyncCommands<String, String> {
        val target = lease.connection.async()
        return Proxy.newProxyInstance(
            RedisAsyncCommands::class.java.classLoader,
            arrayOf(RedisAsyncCommands::class.java),
        ) { _, method, args ->
            val result = invoke(target, method, args)
            // A command counts once its reply came back without an error.
            if (result is RedisFuture<*>) result.whenComplete { _, error -> if (error == null) lease.tracker.track {} }
            result
        } as RedisAsyncCommands<String, String>
    }

    private fun invoke(
        target: Any,
        method: java.lang.reflect.Method,
        args: Array<out Any?>?,
    ): Any? =
        try {
            method.invoke(target, *(args ?: emptyArray()))
        } catch (e: InvocationTargetException) {
            throw e.targetException
        }
}
