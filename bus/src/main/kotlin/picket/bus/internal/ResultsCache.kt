package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import io.lettuce.core.ScriptOutputType
import picket.bus.BusSettings
import picket.bus.InvalidArgumentsException
import picket.core.InvalidSpecException
import picket.core.internal.runScript
import java.time.Duration

/**
 * The results cache of one bus: a call's cache entry key (its method's template rendered with the bound arguments),
 * the entry a worker stores with a result, clearing one entry, and a registration's TTL. The call script returns a
 * cached value; the step, start and reply scripts read and write entries (bus/README.md, "Results cache").
 */
internal class ResultsCache(
    private val bus: RealBus,
) {
    /** The cache entry key of a call of [entry] with [bound] arguments; null if the method does not cache. */
    fun keyOf(
        entry: RegistryEntry,
        bound: Map<String, JsonNode>,
    ): String? = entry.cacheKey?.let { bus.keys.cache(entry.method, Binding.render(it, bound)) }

    /**
     * What a worker caches with the result [json] of [owned]'s method [method] for a request whose entry key is
     * [cacheKey] (null: nothing).
     */
    fun toStore(
        method: String,
        owned: Owned?,
        cacheKey: String?,
        json: String,
    ): Cached? = cacheKey?.let { Cached(it, bus.keys.cached(method), json, owned?.entry?.cacheTtlMs ?: 0L) }

    /**
     * Drops the cached result of [method] for these arguments; whether there was one.
     *
     * @throws InvalidArgumentsException if [method] has no cache, or the arguments do not fit.
     */
    suspend fun clear(
        method: String,
        positional: List<Any?>,
        named: Map<String, Any?>,
    ): Boolean {
        bus.checkOpen()
        val entry = bus.registry.entry(method)
        val template =
            entry.cacheKey
                ?: throw InvalidArgumentsException(method, "it has no cache (registered without a cache key)")
        val key = bus.keys.cache(method, Binding.render(template, Binding.bind(entry, positional, named)))
        return bus.picket.withConn(bus.spec) {
            runScript<Long>(Scripts.CLEAR, ScriptOutputType.INTEGER, arrayOf(key, bus.keys.cached(method)))
        } == 1L
    }

    companion object {
        /** A registration's cache TTL before the bus's default is known. */
        private const val DEFAULT_TTL = -1L

        /**
         * The TTL a registration stores (ms; null: no expiry, or no cache): [DEFAULT_TTL] stands for the bus's
         * default until [withDefaultTtl] resolves it.
         *
         * @throws InvalidSpecException if [ttl] is negative.
         */
        fun ttlMs(
            cacheKey: String?,
            ttl: Duration?,
        ): Long? {
            if (cacheKey == null) return null
            if (ttl != null && ttl.isNegative) throw InvalidSpecException("cacheTtl is $ttl, must be >= 0")
            return when {
                ttl == null -> DEFAULT_TTL
                ttl.isZero -> null
                else -> ttl.toMillis()
            }
        }

        /** [entry] with the bus's default TTL in place of [DEFAULT_TTL]. */
        fun withDefaultTtl(
            entry: RegistryEntry,
            settings: BusSettings,
        ): RegistryEntry =
            if (entry.cacheTtlMs ==
                DEFAULT_TTL
            ) {
                entry.copy(cacheTtlMs = settings.defaultCacheTtl?.toMillis())
            } else {
                entry
            }
    }
}

/** A result to cache: the entry's key, the method's set of cached keys, the JSON, the TTL (0: none). */
internal class Cached(
    val key: String,
    val set: String,
    val json: String,
    val ttlMs: Long,
)
