package picket.bench

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.pubsub.RedisPubSubAdapter
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import kotlinx.coroutines.delay
import picket.testkit.RedisNode
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicLong

/**
 * The benchmark's own view of the sentinels: one `PSUBSCRIBE *` connection to every sentinel (named
 * [CLIENT_NAME]), each event timestamped with [System.nanoTime] on the I/O thread that received it. It is the
 * clock every failover figure is measured against, independent of the clients measured.
 */
class SentinelEvents(
    private val client: RedisClient,
    sentinels: List<RedisNode>,
) : AutoCloseable {
    class Event(
        val nanos: Long,
        val sentinel: String,
        val channel: String,
        val message: String,
    )

    private val events = CopyOnWriteArrayList<Event>()
    private val last = AtomicLong(System.nanoTime())

    private val connections: List<StatefulRedisPubSubConnection<String, String>> =
        sentinels.map { sentinel ->
            val uri =
                RedisURI
                    .builder()
                    .withHost(sentinel.host)
                    .withPort(sentinel.port)
                    .withClientName(CLIENT_NAME)
                    .withTimeout(Duration.ofSeconds(2))
                    .build()
            client.connectPubSub(StringCodec.UTF8, uri).also { connection ->
                connection.addListener(
                    object : RedisPubSubAdapter<String, String>() {
                        override fun message(
                            pattern: String,
                            channel: String,
                            message: String,
                        ) {
                            // Stamped and appended under one lock: the sentinels' connections may sit on
                            // different I/O threads, and the list's order must be the stamps' order (the first
                            // switch is the list's first, the spread of the announcements never negative).
                            synchronized(events) {
                                val now = System.nanoTime()
                                events += Event(now, sentinel.name, channel, message)
                                last.set(now)
                            }
                        }
                    },
                )
                connection.sync().psubscribe("*")
            }
        }

    /** Every event received at or after [since] (a [System.nanoTime] value). */
    fun since(since: Long): List<Event> = events.filter { it.nanos >= since }

    /** The `+switch-master` announcements of [masterName] received at or after [since], first first. */
    fun switches(
        masterName: String,
        since: Long,
    ): List<Event> = since(since).filter { it.channel == "+switch-master" && it.message.startsWith("$masterName ") }

    /** Waits for the first `+switch-master` of [masterName] at or after [since]; null after [timeout]. */
    suspend fun awaitSwitch(
        masterName: String,
        since: Long,
        timeout: Duration,
    ): Event? {
        val deadline = System.nanoTime() + timeout.toNanos()
        while (System.nanoTime() < deadline) {
            switches(masterName, since).firstOrNull()?.let { return it }
            delay(POLL_MS)
        }
        return null
    }

    /**
     * Waits until no sentinel has published anything for [quiet] (they go on for 10–20 s after a failover), for at
     * most [max]. Returns how long it waited and whether it became quiet.
     */
    suspend fun awaitQuiet(
        quiet: Duration,
        max: Duration,
    ): Pair<Duration, Boolean> {
        val start = System.nanoTime()
        while (true) {
            val now = System.nanoTime()
            if (now - last.get() >= quiet.toNanos()) return Duration.ofNanos(now - start) to true
            if (now - start >= max.toNanos()) return Duration.ofNanos(now - start) to false
            delay(QUIET_POLL_MS)
        }
    }

    override fun close() {
        connections.forEach { runCatching { it.close() } }
    }

    companion object {
        /** The client name of the benchmark's own sentinel subscriptions, so that counts can leave them out. */
        const val CLIENT_NAME = "bench-watch"
        private const val POLL_MS = 2L
        private const val QUIET_POLL_MS = 50L
    }
}
