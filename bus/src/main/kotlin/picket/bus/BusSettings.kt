package picket.bus

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * Settings that every [Bus] of one name shares: the first instance to reach Redis stores them in the bus's
 * `settings` hash, and every later instance (in any process) adopts the stored ones, whatever it was given.
 *
 * @property lease how long a registration and a serving worker stay visible without a heartbeat (renewed every third
 *   of it): a crashed service's methods disappear, and its running calls fail with [WorkerLostException], within
 *   about one lease. Default 10 s.
 * @property defaultTimeout a call's deadline when the caller gives none. Default 30 s.
 * @property resultRetention how long a reply waits in Redis for a caller that is not reading (and how long a queue
 *   outlives its last call's deadline). Default 60 s.
 * @property defaultCacheTtl the cache TTL of a method registered with a cache template and no TTL of its own; null
 *   keeps entries until cleared. Default 1 h.
 */
public data class BusSettings
    @JvmOverloads
    constructor(
        val lease: Duration = Duration.ofSeconds(10),
        val defaultTimeout: Duration = Duration.ofSeconds(30),
        val resultRetention: Duration = Duration.ofSeconds(60),
        val defaultCacheTtl: Duration? = Duration.ofHours(1),
    ) {
        init {
            positive("lease", lease, Duration.ofMillis(MIN_LEASE_MS))
            positive("defaultTimeout", defaultTimeout, Duration.ofMillis(1))
            positive("resultRetention", resultRetention, Duration.ofSeconds(1))
            defaultCacheTtl?.let { positive("defaultCacheTtl", it, Duration.ofMillis(1)) }
        }

        /** A copy with [lease]. */
        public fun lease(lease: Duration): BusSettings = copy(lease = lease)

        /** A copy with [timeout] as the default call timeout. */
        public fun defaultTimeout(timeout: Duration): BusSettings = copy(defaultTimeout = timeout)

        /** A copy with [retention]. */
        public fun resultRetention(retention: Duration): BusSettings = copy(resultRetention = retention)

        /** A copy with [ttl] as the default cache TTL (null: no expiry). */
        public fun defaultCacheTtl(ttl: Duration?): BusSettings = copy(defaultCacheTtl = ttl)

        internal fun toFields(): Map<String, String> =
            mapOf(
                "lease_ms" to lease.toMillis().toString(),
                "timeout_ms" to defaultTimeout.toMillis().toString(),
                "retention_ms" to resultRetention.toMillis().toString(),
                "cache_ttl_ms" to (defaultCacheTtl?.toMillis() ?: 0L).toString(),
            )

        internal companion object {
            const val MIN_LEASE_MS = 300L

            @JvmSynthetic
            fun fromFields(
                fields: Map<String, String>,
                fallback: BusSettings,
            ): BusSettings {
                fun ms(name: String) = fields[name]?.toLongOrNull()
                return BusSettings(
                    lease = ms("lease_ms")?.let(Duration::ofMillis) ?: fallback.lease,
                    defaultTimeout = ms("timeout_ms")?.let(Duration::ofMillis) ?: fallback.defaultTimeout,
                    resultRetention = ms("retention_ms")?.let(Duration::ofMillis) ?: fallback.resultRetention,
                    defaultCacheTtl =
                        when (val ttl = ms("cache_ttl_ms")) {
                            null -> fallback.defaultCacheTtl
                            0L -> null
                            else -> Duration.ofMillis(ttl)
                        },
                )
            }

            private fun positive(
                name: String,
                value: Duration,
                min: Duration,
            ) {
                if (value < min) throw InvalidSpecException("bus setting $name is $value, must be at least $min")
            }
        }
    }
