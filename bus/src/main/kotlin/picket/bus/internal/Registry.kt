package picket.bus.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.flow.toList
import picket.bus.BusSettings
import picket.bus.InvalidRegistrationException
import picket.bus.MethodInfo
import picket.bus.ParamInfo
import picket.bus.UnknownMethodException
import picket.core.internal.runScript
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicReference

private val log = KotlinLogging.logger {}

/** A method this instance registered: what the registry holds, and the function that runs it. */
internal class Owned(
    val entry: RegistryEntry,
    val invoker: Invoker,
)

/**
 * Registration and discovery for one bus instance: the methods it registered ([owned], written by the register
 * script and leased by the [Heartbeat]), and its copy of the bus's registry (the `methods` hash), at most a second
 * old, read again before a method is called unknown.
 */
internal class Registry(
    private val bus: RealBus,
) {
    val owned = ConcurrentHashMap<String, Owned>()
    private val entries = AtomicReference<Map<String, RegistryEntry>>(emptyMap())

    @Volatile
    private var loadedAt = 0L

    /** The methods the local copy knows (for [UnknownMethodException]'s list). */
    val known: Set<String> get() = entries.get().keys

    /**
     * Registers [owned] in Redis (its cache TTL resolved against the bus's default) and starts the heartbeat.
     *
     * @throws InvalidRegistrationException for a bad name or cache template, or a name a different live definition
     *   holds.
     */
    suspend fun register(owned: Owned) {
        bus.checkOpen()
        val entry = owned.entry
        val method = entry.method
        if (method.isBlank()) throw InvalidRegistrationException(method, "its name is blank")
        if (method.any { it == '{' || it == '}' || it.isWhitespace() }) {
            throw InvalidRegistrationException(method, "its name holds '{', '}' or whitespace")
        }
        entry.cacheKey?.let { Binding.checkTemplate(method, it, entry.params) }
        val settings = bus.settings()
        write(Owned(ResultsCache.withDefaultTtl(entry, settings), owned.invoker), settings)
    }

    /** Writes [owned] (its TTL resolved) to Redis again: the heartbeat found it missing. */
    suspend fun registerAgain(
        owned: Owned,
        settings: BusSettings,
    ) = write(owned, settings)

    private suspend fun write(
        owned: Owned,
        settings: BusSettings,
    ) {
        val entry = owned.entry
        val method = entry.method
        val keys = bus.keys
        val reply =
            bus.multi(
                Scripts.REGISTER,
                arrayOf(keys.methods, keys.owners(method), keys.instances, keys.index, keys.cached(method)),
                method,
                entry.toJson(),
                bus.instance,
                settings.lease.toMillis().toString(),
                keys.queue(method),
                keys.workers(method),
                keys.cached(method),
                keys.proc(bus.instance),
                keys.replies(bus.instance),
            )
        if (reply.firstOrNull() != 1L) {
            throw InvalidRegistrationException(
                method,
                "it is registered with a different definition, which a live service holds: ${reply.getOrNull(1)}",
                reply.getOrNull(1)?.toString(),
            )
        }
        this.owned[method] = owned
        entries.updateAndGet { it + (method to entry) }
        bus.heartbeat.start()
    }

    /** Reads the whole registry again into the local copy. */
    suspend fun reload(): Map<String, RegistryEntry> {
        val all = bus.picket.withConn(bus.spec) { hgetall(bus.keys.methods).toList() }
        val parsed =
            all
                .mapNotNull { kv ->
                    val method = kv.key
                    val text = kv.value
                    runCatching { RegistryEntry.parse(text) }
                        .onFailure {
                            log.warn { "bus '${bus.name}': registry entry of '$method' is not readable: ${it.message}" }
                        }.getOrNull()
                        ?.let { method to it }
                }.toMap()
        entries.set(parsed)
        loadedAt = System.nanoTime()
        return parsed
    }

    /** [method]'s entry: from the local copy if under a second old, else from Redis (a new method is found at once). */
    suspend fun entry(method: String): RegistryEntry {
        val fresh = System.nanoTime() - loadedAt < FRESH_NANOS
        entries.get()[method]?.let { if (fresh || owned.containsKey(method)) return it }
        return reload()[method] ?: throw UnknownMethodException(bus.name, method, known)
    }

    /** Forgets the local copy (the bus was cleaned up). */
    fun forget() {
        entries.set(emptyMap())
    }

    /** Every method registered on the bus, with its live workers (the list script). */
    suspend fun methods(): List<MethodInfo> {
        val flat = bus.multi(Scripts.LIST, arrayOf(bus.keys.methods), bus.keys.root)
        return flat
            .chunked(LIST_STRIDE)
            .mapNotNull { (method, text, workers) ->
                val entry = runCatching { RegistryEntry.parse(text.toString()) }.getOrNull() ?: return@mapNotNull null
                MethodInfo(
                    name = method.toString(),
                    params =
                        entry.params.map { p ->
                            ParamInfo(p.name, p.type, p.required, p.hasDefault, p.default?.let { decodePlain(it) })
                        },
                    returns = entry.returns,
                    cacheKey = entry.cacheKey,
                    cacheTtl = entry.cacheTtlMs?.let(Duration::ofMillis),
                    source = entry.source,
                    workers = (workers as Long).toInt(),
                )
            }.sortedBy { it.name }
    }

    private companion object {
        const val FRESH_NANOS = 1_000_000_000L
        const val LIST_STRIDE = 3
    }
}
