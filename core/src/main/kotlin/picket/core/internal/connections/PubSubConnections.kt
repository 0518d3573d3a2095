package picket.core.internal.connections

import io.lettuce.core.RedisChannelHandler
import io.lettuce.core.RedisConnectionStateListener
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import io.lettuce.core.resource.ClientResources
import picket.core.ConnSpec
import picket.core.NodeConnectionException
import picket.core.PicketClosedException
import picket.core.engine.PubSubAttachment
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit

/**
 * Pub/sub connections, each its own, on I/O threads of their own: a listener whose buffer is full stops reading
 * (it holds its I/O thread), which must never stall the connections that `withConn` blocks run on. The timer and
 * computation threads are [main]'s. Each connection can be watched for its close. Made on first use, ended by
 * [shutdown].
 */
internal class PubSubConnections(
    private val main: ClientResources,
) {
    private val watchers = ConcurrentHashMap<RedisChannelHandler<*, *>, () -> Unit>()
    private val listener =
        object : RedisConnectionStateListener {
            override fun onRedisDisconnected(connection: RedisChannelHandler<*, *>) {
                watchers.remove(connection)?.invoke()
            }
        }
    private val resources: ClientResources by lazy { OwnedResources.forPubSub(main) }
    private val clients by lazy { Clients(resources, listener) }

    @Volatile
    private var used = false

    @Volatile
    private var closed = false

    /**
     * A new pub/sub connection for [key]; [onClosed] runs once when it closes for any reason.
     *
     * @throws NodeConnectionException if it cannot be made within the spec's connect timeout.
     */
    suspend fun open(
        key: DataConnections.Key,
        spec: ConnSpec,
        onClosed: () -> Unit,
    ): StatefulRedisPubSubConnection<String, ByteArray> {
        val future =
            synchronized(this) {
                // Checked with shutdown's lock held: no client or resources are made after it.
                if (closed) throw PicketClosedException()
                used = true
                clients.of(key.keepAlive, key.tls)
            }.connectPubSubAsync(PubSubAttachment.codec, DataConnections.uri(key, spec)).toCompletableFuture()
        val connection = awaitConnect(future, key, spec)
        watchers[connection as RedisChannelHandler<*, *>] = onClosed
        // Closed before the watch was in place: nobody would be told.
        if (!connection.isOpen && watchers.remove(connection) != null) onClosed()
        return connection
    }

    /**
     * Closes the connections still open (their owners closed the others), then ends the event loops, waiting at most
     * [seconds] for each; before [main] is shut down, whose timer and computation threads these use.
     */
    fun shutdown(seconds: Long) {
        synchronized(this) {
            closed = true
            if (!used) return
        }
        clients.shutdown(seconds)
        resources.shutdown(0, seconds, TimeUnit.SECONDS).awaitUninterruptibly(seconds, TimeUnit.SECONDS)
    }
}
