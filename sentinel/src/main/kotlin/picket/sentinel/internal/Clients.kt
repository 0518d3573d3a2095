package picket.sentinel.internal

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.SocketOptions
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.resource.ClientResources
import picket.core.KeepAlive
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit

/**
 * Lettuce clients, one per distinct TCP keepalive setting (Lettuce applies socket options per client), all on the
 * same event loops and threads ([resources]).
 */
internal class Clients(
    private val resources: ClientResources,
) {
    private val byKeepAlive = ConcurrentHashMap<Optional, RedisClient>()

    /** The map key: [ConcurrentHashMap] takes no null. */
    private data class Optional(
        val keepAlive: KeepAlive?,
    )

    fun of(keepAlive: KeepAlive?): RedisClient = byKeepAlive.computeIfAbsent(Optional(keepAlive)) { create(keepAlive) }

    private fun create(keepAlive: KeepAlive?): RedisClient =
        RedisClient.create(resources).apply {
            // Connections never reconnect by themselves: a lost one is dropped and the next block reconnects
            // through a fresh resolution, possibly to another node.
            options =
                ClientOptions
                    .builder()
                    .autoReconnect(false)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(
                        SocketOptions
                            .builder()
                            .connectTimeout(MAX_CONNECT_TIMEOUT)
                            .keepAlive(options(keepAlive))
                            .build(),
                    ).timeoutOptions(TimeoutOptions.enabled())
                    .build()
        }

    private fun options(keepAlive: KeepAlive?): SocketOptions.KeepAliveOptions =
        if (keepAlive == null) {
            SocketOptions.KeepAliveOptions
                .builder()
                .disable()
                .build()
        } else {
            SocketOptions.KeepAliveOptions
                .builder()
                .enable()
                .idle(keepAlive.idle)
                .interval(keepAlive.interval)
                .count(keepAlive.count)
                .build()
        }

    fun shutdown(seconds: Long) {
        byKeepAlive.values.forEach { it.shutdown(0, seconds, TimeUnit.SECONDS) }
        byKeepAlive.clear()
    }

    private companion object {
        /** The socket's own bound; each connect is also bounded by its spec's or group's connect timeout. */
        val MAX_CONNECT_TIMEOUT: Duration = Duration.ofSeconds(10)
    }
}
