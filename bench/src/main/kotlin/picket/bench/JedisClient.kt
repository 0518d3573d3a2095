package picket.bench

import org.apache.commons.pool2.impl.GenericObjectPoolConfig
import picket.core.Address
import redis.clients.jedis.DefaultJedisClientConfig
import redis.clients.jedis.HostAndPort
import redis.clients.jedis.Jedis
import redis.clients.jedis.JedisSentinelPool
import java.time.Duration

/**
 * Jedis's [JedisSentinelPool], the usual blocking Java client behind Sentinel: each call borrows a connection to the
 * master and returns it. The pool holds up to [poolSize] connections (one per caller thread, so that no caller waits
 * for a connection), and every socket has [timeout] as its connect and read timeout, as has a borrow.
 *
 * Jedis 8 deprecates the pool for `RedisSentinelClient`; issue 22 names the pool, which is what Java applications
 * behind Sentinel run today.
 */
@Suppress("DEPRECATION")
internal class JedisClient(
    sentinels: List<Address>,
    masterName: String,
    poolSize: Int,
    timeout: Duration = Duration.ofSeconds(2),
) : SyncClient {
    private val pool: JedisSentinelPool

    init {
        val config =
            DefaultJedisClientConfig
                .builder()
                .connectionTimeoutMillis(timeout.toMillis().toInt())
                .socketTimeoutMillis(timeout.toMillis().toInt())
                .build()
        val poolConfig =
            GenericObjectPoolConfig<Jedis>().apply {
                maxTotal = poolSize
                maxIdle = poolSize
                // A borrow waits at most the timeout too (the pool's default is forever): after a failover a
                // single-connection pool could otherwise block its caller for good.
                setMaxWait(timeout)
                jmxEnabled = false
            }
        val addresses = sentinels.map { HostAndPort(it.host, it.port) }.toSet()
        pool = JedisSentinelPool(masterName, addresses, poolConfig, config, config)
    }

    override fun set(
        key: String,
        value: String,
    ) {
        pool.resource.use { it.set(key, value) }
    }

    override fun get(key: String): String? = pool.resource.use { it.get(key) }

    override fun close() = pool.close()
}
