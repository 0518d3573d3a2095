package picket.bench

import io.lettuce.core.ReadFrom
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.masterreplica.MasterReplica
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import java.time.Duration
import java.util.function.Function

/** A client of the Java-path benchmark: synchronous SET and GET, called by many threads at once. */
internal interface SyncClient : AutoCloseable {
    fun set(
        key: String,
        value: String,
    )

    fun get(key: String): String?
}

/**
 * The one place the benchmarks call Picket's Java blocking path, so that its rename (issue 22:
 * `picket.blocking().withConn(spec, block)`, on the calling thread) is one line here.
 */
internal fun <T> picketJava(
    picket: Picket,
    spec: ConnSpec,
    block: Function<RedisCommands<String, String>, T>,
): T = picket.blocking().withConn(spec, block)

/**
 * A sentinel URI for Lettuce's MasterReplica over every sentinel of [sentinels], with [timeout] as its command
 * timeout if given.
 */
internal fun sentinelUri(
    sentinels: List<Address>,
    masterName: String,
    timeout: Duration? = null,
): RedisURI =
    RedisURI.Builder
        .sentinel(sentinels[0].host, sentinels[0].port, masterName)
        .apply { sentinels.drop(1).forEach { withSentinel(it.host, it.port) } }
        .apply { timeout?.let { withTimeout(it) } }
        .build()

/** The clients of the Java-path benchmark, by the kind named on a child JVM's command line ([JavaPathChild]). */
internal object JavaPathClients {
    const val PICKET = "picket"
    const val LETTUCE = "lettuce"
    const val JEDIS = "jedis"
    val KINDS = listOf(PICKET, LETTUCE, JEDIS)

    /** The client of [kind], for [threads] callers, on the master [masterName] that [sentinels] know. */
    fun create(
        kind: String,
        sentinels: List<Address>,
        masterName: String,
        threads: Int,
    ): SyncClient =
        when (kind) {
            PICKET -> picket(sentinels, masterName)
            LETTUCE -> lettuce(sentinels, masterName)
            JEDIS -> JedisClient(sentinels, masterName, poolSize = threads)
            else -> throw IllegalArgumentException("unknown client '$kind'")
        }

    /** Picket with its defaults, through its Java blocking path ([picketJava]). */
    private fun picket(
        sentinels: List<Address>,
        masterName: String,
    ): SyncClient {
        val picket = Picket()
        picket.setSentinelGroups("bench" to SentinelGroup(sentinels))
        val spec = ConnSpec(sentinelGroup = "bench", masterName = masterName)
        return object : SyncClient {
            override fun set(
                key: String,
                value: String,
            ) {
                picketJava(picket, spec) { it.set(key, value) }
            }

            override fun get(key: String): String? = picketJava(picket, spec) { it.get(key) }

            override fun close() = picket.close()
        }
    }

    /** Lettuce's synchronous API on one MasterReplica connection over the sentinels, writing to the master. */
    private fun lettuce(
        sentinels: List<Address>,
        masterName: String,
    ): SyncClient {
        val client = RedisClient.create()
        val connection = MasterReplica.connect(client, StringCodec.UTF8, sentinelUri(sentinels, masterName))
        connection.readFrom = ReadFrom.UPSTREAM
        val sync = connection.sync()
        return object : SyncClient {
            override fun set(
                key: String,
                value: String,
            ) {
                sync.set(key, value)
            }

            override fun get(key: String): String? = sync.get(key)

            override fun close() {
                connection.close()
                client.shutdown()
            }
        }
    }
}
