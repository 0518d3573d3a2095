@file:Suppress("SpreadOperator") // reflection takes varargs; a handful of values per call

package picket.bus.internal

import picket.bus.BusName
import picket.core.InvalidSpecException
import picket.core.internal.javaCalls
import java.lang.reflect.InvocationHandler
import java.lang.reflect.Method
import java.lang.reflect.ParameterizedType
import java.lang.reflect.Proxy
import java.lang.reflect.Type
import java.lang.reflect.WildcardType
import java.util.concurrent.CompletableFuture
import kotlin.coroutines.Continuation
import kotlin.coroutines.intrinsics.startCoroutineUninterceptedOrReturn

/**
 * An implementation of interface [type] whose methods call the bus with their arguments by position: a method calls
 * its [BusName] if it has one; else, with a [prefix], [prefix] + its name (methods registered one by one), and
 * without one the name [Interfaces.busName] derives (an implementation registered with `register(Class, impl)`). A
 * method returning [CompletableFuture] calls asynchronously, a Kotlin suspend function suspends, any other blocks on
 * the calling thread (`javaCalls().blocking`: interruptible); results are decoded to the declared (generic) type.
 *
 * @throws InvalidSpecException if [type] is not an interface.
 */
internal fun <T> proxy(
    bus: RealBus,
    type: Class<T>,
    prefix: String?,
): T {
    if (!type.isInterface) throw InvalidSpecException("a bus proxy needs an interface, ${type.name} is not one")
    val names = Interfaces.remoteMethods(type).associateWith { name(type, it, prefix) }
    val handler =
        InvocationHandler { self, method, rawArgs ->
            val args = rawArgs?.toList().orEmpty()
            when {
                method.declaringClass == Any::class.java -> objectMethod(self, type, prefix, method, args)
                method.isDefault -> InvocationHandler.invokeDefault(self, method, *args.toTypedArray())
                else -> busCall(bus, names[method] ?: name(type, method, prefix), method, args)
            }
        }
    return type.cast(Proxy.newProxyInstance(type.classLoader, arrayOf(type), handler))
}

private fun name(
    type: Class<*>,
    method: Method,
    prefix: String?,
): String =
    if (prefix == null) {
        Interfaces.busName(type, method)
    } else {
        method.getAnnotation(BusName::class.java)?.value ?: (prefix + method.name)
    }

private fun objectMethod(
    self: Any,
    type: Class<*>,
    prefix: String?,
    method: Method,
    args: List<Any?>,
): Any? =
    when (method.name) {
        "toString" -> "BusProxy(${type.name}" + (prefix?.let { ", prefix='$it')" } ?: ")")
        "hashCode" -> System.identityHashCode(self)
        "equals" -> self === args.firstOrNull()
        else -> throw UnsupportedOperationException(method.name)
    }

private fun busCall(
    bus: RealBus,
    name: String,
    method: Method,
    args: List<Any?>,
): Any? {
    val continuation = args.lastOrNull() as? Continuation<*>
    if (continuation != null && method.parameterTypes.lastOrNull() == Continuation::class.java) {
        val resultType = continuationResult(method)
        val arguments = args.dropLast(1)
        val block: suspend () -> Any? = {
            val node = bus.calls.call(name, arguments, emptyMap(), null)
            if (resultType == Unit::class.java) Unit else decode<Any?>(name, node, resultType)
        }
        @Suppress("UNCHECKED_CAST")
        return block.startCoroutineUninterceptedOrReturn(continuation as Continuation<Any?>)
    }
    if (method.returnType == CompletableFuture::class.java) {
        val resultType =
            (method.genericReturnType as? ParameterizedType)?.actualTypeArguments?.first() ?: Any::class.java
        return bus.picket.javaCalls().async {
            decode<Any?>(name, bus.calls.call(name, args, emptyMap(), null), resultType)
        }
    }
    val resultType = method.genericReturnType
    return bus.picket.javaCalls().blocking("bus call of '$name'") {
        val node = bus.calls.call(name, args, emptyMap(), null)
        if (method.returnType == Void.TYPE) null else decode<Any?>(name, node, resultType)
    }
}

/** `T` of a suspend function's `Continuation<? super T>` parameter. */
private fun continuationResult(method: Method): Type {
    val param = method.genericParameterTypes.last() as? ParameterizedType ?: return Any::class.java
    val arg = param.actualTypeArguments.first()
    return if (arg is WildcardType) arg.lowerBounds.firstOrNull() ?: arg.upperBounds.first() else arg
}
