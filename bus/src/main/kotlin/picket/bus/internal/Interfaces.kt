package picket.bus.internal

import kotlinx.coroutines.CoroutineDispatcher
import picket.bus.BusName
import picket.bus.InvalidRegistrationException
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import kotlin.reflect.jvm.kotlinFunction

/**
 * Interfaces on the bus: the naming rule shared by [ofInterface] (the service side, `Bus.register(Class, impl)`) and
 * [proxy] (the caller side, `Bus.proxy(Class)`), so that both derive the same method names from one interface.
 *
 * The rule: a method's bus name is its [BusName] if it has one; else the interface's name, a dot and the method's
 * name (`MathApi.add`), where the interface's name is its own [BusName] if it has one, else its simple name.
 */
internal object Interfaces {
    /** The bus name of [method] of interface [api] (see the object). */
    fun busName(
        api: Class<*>,
        method: Method,
    ): String =
        method.getAnnotation(BusName::class.java)?.value
            ?: ((api.getAnnotation(BusName::class.java)?.value ?: api.simpleName) + "." + method.name)

    /** The methods of [api] that go over the bus: abstract instance methods (default methods run locally). */
    fun remoteMethods(api: Class<*>): List<Method> =
        api.methods
            .filter { !it.isDefault && !Modifier.isStatic(it.modifiers) && !it.isSynthetic && !it.isBridge }
            .sortedWith(compareBy({ it.name }, { it.parameterCount }))

    /**
     * Every remote method of [api], run by [implementation], as what the registry stores: typed parameters (their
     * names from the class file), results encoded by the bus's JSON. Checked in full before anything is stored.
     *
     * @throws InvalidRegistrationException if [api] is not an interface, [implementation] does not implement it, it
     *   has no remote method, two methods would share a bus name (overloads: refused, naming them), or a parameter
     *   has no name (a Java interface compiled without `-parameters`).
     */
    fun <I : Any> ofInterface(
        api: Class<I>,
        implementation: I,
        handlers: CoroutineDispatcher,
    ): List<Owned> {
        val methods = checked(api, implementation)
        val byName = methods.groupBy { busName(api, it) }
        byName.entries.firstOrNull { it.value.size > 1 }?.let { (name, same) ->
            throw InvalidRegistrationException(
                name,
                "${api.name} has ${same.size} methods that would share this name (overloads: " +
                    same.joinToString { signature(it) } + "): give each its own @BusName",
            )
        }
        return byName.map { (name, list) ->
            val method = list.single()
            val function =
                method.kotlinFunction
                    ?: throw InvalidRegistrationException(
                        name,
                        "${signature(method)} cannot be seen by Kotlin reflection",
                    )
            Registrations.ofFunction(name, function, implementation, null, null, emptyMap(), handlers)
        }
    }

    /** [api]'s remote methods, once [api] is an interface that [implementation] implements and has some. */
    private fun checked(
        api: Class<*>,
        implementation: Any,
    ): List<Method> {
        val what = api.name
        if (!api.isInterface) throw InvalidRegistrationException(what, "$what is not an interface")
        if (!api.isInstance(implementation)) {
            throw InvalidRegistrationException(what, "${implementation.javaClass.name} does not implement $what")
        }
        return remoteMethods(api).ifEmpty {
            throw InvalidRegistrationException(what, "$what has no abstract method to register")
        }
    }

    private fun signature(method: Method): String =
        method.name + method.parameterTypes.joinToString(prefix = "(", postfix = ")") { it.simpleName }
}
