package picket.bus

import picket.core.InvalidSpecException
import java.lang.reflect.Modifier

/**
 * The command-line runner, like the seed's `redis-bus rng.bus`: serves the bus that a class or object exposes.
 *
 * ```
 * java -cp app.jar picket.bus.BusRunner [--debug] [--concurrency N] [--pattern GLOB] picket.samples.MathService.bus
 * ```
 *
 * The target is `<class>.<member>`: a Kotlin `object`'s property or function, or a Java static field or method
 * without parameters, that returns a [Bus] with its methods registered; or just `<class>`, whose single [Bus]-typed
 * member is used. Serves its prefix's methods (or `--pattern`) until the process is stopped; `--debug` stops at the
 * first exception of a method and prints it with its full stack (never in production).
 */
public object BusRunner {
    /** Runs the runner until the process ends; exit status 2 for bad arguments, 1 for a debug stop. */
    @JvmStatic
    public fun main(args: Array<String>) {
        val server =
            try {
                start(args)
            } catch (e: InvalidSpecException) {
                System.err.println("picket-bus: ${e.message}\n$USAGE")
                kotlin.system.exitProcess(2)
            }
        Runtime.getRuntime().addShutdownHook(Thread { server.close() })
        try {
            server.blocking().join()
        } catch (e: DebugStopException) {
            System.err.println("picket-bus: ${e.message}")
            e.cause?.printStackTrace()
            kotlin.system.exitProcess(1)
        }
    }

    /**
     * Resolves the target in [args] and starts serving it; returns the running server (the runner's [main] waits
     * on it).
     *
     * @throws InvalidSpecException for unknown options or a target that does not lead to a [Bus].
     */
    @JvmStatic
    public fun start(args: Array<String>): BusServer {
        var debug = false
        var concurrency = 1
        var pattern: String? = null
        var target: String? = null
        val rest = args.iterator()
        while (rest.hasNext()) {
            when (val arg = rest.next()) {
                "--debug" -> {
                    debug = true
                }

                "--concurrency" -> {
                    concurrency =
                        rest.nextOrFail(arg).toIntOrNull() ?: fail("--concurrency needs a number")
                }

                "--pattern" -> {
                    pattern = rest.nextOrFail(arg)
                }

                else -> {
                    if (arg.startsWith("--")) fail("unknown option $arg") else target = arg
                }
            }
        }
        val bus = resolve(target ?: fail("no target given"))
        return bus.blocking().serve(pattern ?: "${bus.prefix}*", concurrency, debug)
    }

    /** The [Bus] that [target] names (see the class's documentation). */
    @JvmStatic
    public fun resolve(target: String): Bus {
        loadClass(target)?.let { return single(it, target) }
        val owner = target.substringBeforeLast('.', "")
        val member = target.substringAfterLast('.')
        val type = loadClass(owner) ?: fail("no class named '$target' or '$owner'")
        return member(type, member) ?: fail("'$owner' has no member '$member' that gives a Bus")
    }

    private fun single(
        type: Class<*>,
        target: String,
    ): Bus {
        val candidates =
            type.methods
                .filter {
                    it.parameterCount == 0 &&
                        Bus::class.java.isAssignableFrom(
                            it.returnType,
                        )
                }.map { it.name } +
                type.fields.filter { Bus::class.java.isAssignableFrom(it.type) }.map { it.name }
        val names = candidates.distinct()
        if (names.size != 1) fail("'$target' must expose exactly one Bus; it has ${names.ifEmpty { listOf("none") }}")
        return member(type, names.single()) ?: fail("'$target' gives no Bus")
    }

    private fun member(
        type: Class<*>,
        name: String,
    ): Bus? {
        val instance = runCatching { type.getField("INSTANCE").get(null) }.getOrNull()
        val getter = "get" + name.replaceFirstChar { it.uppercase() }
        type.methods
            .firstOrNull { (it.name == name || it.name == getter) && it.parameterCount == 0 }
            ?.let { method ->
                val self = if (Modifier.isStatic(method.modifiers)) null else instance ?: return null
                return method.invoke(self) as? Bus
            }
        type.fields.firstOrNull { it.name == name }?.let { field ->
            val self = if (Modifier.isStatic(field.modifiers)) null else instance ?: return null
            return field.get(self) as? Bus
        }
        return null
    }

    private fun loadClass(name: String): Class<*>? =
        if (name.isBlank()) null else runCatching { Class.forName(name) }.getOrNull()

    private fun Iterator<String>.nextOrFail(option: String): String =
        if (hasNext()) next() else fail("$option needs a value")

    private fun fail(message: String): Nothing = throw InvalidSpecException("bus runner: $message")

    private const val USAGE =
        "usage: picket.bus.BusRunner [--debug] [--concurrency N] [--pattern GLOB] <class>[.<member>]"
}
