package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.future.await
import kotlinx.coroutines.runInterruptible
import picket.bus.BusArgs
import picket.bus.InvalidArgumentsException
import java.lang.reflect.InvocationTargetException
import java.util.concurrent.CompletionException
import java.util.concurrent.CompletionStage
import kotlin.reflect.KFunction
import kotlin.reflect.KParameter
import kotlin.reflect.full.callSuspendBy
import kotlin.reflect.jvm.isAccessible
import kotlin.reflect.jvm.javaType

/** Runs a registered function with a call's JSON arguments. */
internal fun interface Invoker {
    suspend fun invoke(
        method: String,
        args: Map<String, JsonNode>,
    ): Any?
}

/**
 * A Kotlin function (or a Java method seen through Kotlin reflection): arguments decoded to the parameters' types. A
 * plain (non-suspend) function is the user's code that may block: it runs on [handlers] (the Picket's handler
 * executor), interruptibly. A result that is a [CompletionStage] (an interface method returning a future) is awaited.
 */
internal class FunctionInvoker(
    private val function: KFunction<*>,
    private val instance: Any?,
    private val handlers: CoroutineDispatcher,
) : Invoker {
    private val params = function.parameters.filter { it.kind == KParameter.Kind.VALUE }
    private val instanceParam = function.parameters.firstOrNull { it.kind != KParameter.Kind.VALUE }

    init {
        runCatching { function.isAccessible = true }
    }

    override suspend fun invoke(
        method: String,
        args: Map<String, JsonNode>,
    ): Any? {
        val names = params.map { it.name }.toSet()
        args.keys.firstOrNull { it !in names }?.let {
            throw InvalidArgumentsException(method, "no parameter named '$it'")
        }
        val call = HashMap<KParameter, Any?>()
        instanceParam?.let { call[it] = instance }
        for (param in params) {
            val node = args[param.name]
            if (node == null) {
                if (!param.isOptional) throw InvalidArgumentsException(method, "missing argument '${param.name}'")
                continue
            }
            call[param] =
                try {
                    Json.mapper.convertValue<Any?>(node, Json.mapper.typeFactory.constructType(param.type.javaType))
                } catch (
                    @Suppress("SwallowedException") e: IllegalArgumentException,
                ) {
                    val expected = param.type.toString().removePrefix("kotlin.")
                    throw InvalidArgumentsException(
                        method,
                        "argument '${param.name}' must be $expected, got ${Json.write(node).take(MAX_SHOWN)}",
                    )
                }
        }
        val result =
            try {
                if (function.isSuspend) {
                    function.callSuspendBy(call)
                } else {
                    // A plain function may block: on the handler executor, never on the bus's own threads.
                    runInterruptible(handlers) { function.callBy(call) }
                }
            } catch (e: InvocationTargetException) {
                throw e.targetException
            }
        return if (result is CompletionStage<*>) awaitStage(result) else result
    }
}

private const val MAX_SHOWN = 100

/** [stage]'s value; its failure as the method's own exception (not the future's wrapper). */
private suspend fun awaitStage(stage: CompletionStage<*>): Any? =
    try {
        stage.await()
    } catch (e: CompletionException) {
        throw e.cause ?: e
    }

/** A function of [BusArgs]. */
internal class ArgsInvoker(
    private val function: suspend (BusArgs) -> Any?,
) : Invoker {
    override suspend fun invoke(
        method: String,
        args: Map<String, JsonNode>,
    ): Any? = function(BusArgs(method, args))
}
