package picket.core.internal.connections

import io.lettuce.core.RedisURI
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.codec.StringCodec
import kotlinx.coroutines.future.await
import picket.core.Address
import picket.core.AddressMapper
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InternalPicketApi
import picket.core.KeepAlive
import picket.core.NodeConnectionException
import picket.core.PicketClosedException
import picket.core.Tls
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap

/**
 * One multiplexed Lettuce connection per (node, credentials, database, client name), shared by every block that
 * needs it. Connections do not reconnect by themselves: a closed one is dropped and the next block connects again,
 * through a fresh resolution if the node is no longer the right one.
 *
 * Each connection is closed exactly once, by whoever removes it from the map (Lettuce warns "Connection is already
 * closed" at a second close): a block that fails on a connection a switch has closed finds it gone and leaves it.
 */
@InternalPicketApi
public class DataConnections(
    private val clients: Clients,
) {
    /**
     * Set by [closeEverything]: from then on no connection is made. Java blocking calls are not the instance's
     * coroutines (close does not wait for them), so one that retries after close must find this, not a new connection.
     */
    @Volatile
    private var closed = false

    /**
     * What makes two connections interchangeable. The password is part of the key but never printed. The command
     * timeout is too, because Lettuce applies it per connection: specs that differ only in it get a connection each.
     */
    public data class Key(
        val address: Address,
        val username: String?,
        val password: String?,
        val database: Int,
        val clientName: String?,
        val commandTimeout: java.time.Duration,
        val scope: String? = null,
        /** The group's address mapping: connections go to [connectTo], the key is the announced [address]. */
        val mapper: AddressMapper = AddressMapper.IDENTITY,
        val keepAlive: KeepAlive? = KeepAlive.DEFAULT,
        /**
         * Whether blocks end with WAIT/WAITAOF, which hold the whole connection on the server until the replicas
         * confirm: durable specs get connections of their own so that they never stall the others.
         */
        val durable: Boolean = false,
        val tls: Tls? = null,
    ) {
        val connectTo: Address get() = mapper.map(address)

        override fun toString(): String = "$address(db $database, user ${username ?: "default"})"

        public companion object {
            public fun of(
                address: Address,
                spec: ConnSpec,
                mapper: AddressMapper = AddressMapper.IDENTITY,
            ): Key =
                Key(
                    address,
                    spec.username,
                    spec.password,
                    spec.database,
                    spec.clientName,
                    spec.commandTimeout,
                    spec.connectionScope,
                    mapper,
                    spec.keepAlive,
                    spec.durability !is Durability.None,
                    spec.tls,
                )
        }
    }

    private val connections = ConcurrentHashMap<Key, CompletableFuture<StatefulRedisConnection<String, String>>>()

    /** Connections of their own, for blocking commands, transactions and pipelines. */
    internal val dedicated = DedicatedPool(DedicatedPool.connector(this), clients::close)

    /**
     * The open connection for [key], connecting if there is none (once, however many callers ask at the same time).
     *
     * @throws NodeConnectionException if the node cannot be connected to within the spec's connect timeout.
     */
    public suspend fun get(
        key: Key,
        spec: ConnSpec,
    ): StatefulRedisConnection<String, String> {
        while (true) {
            if (closed) throw PicketClosedException()
            val future = connections[key] ?: connections.computeIfAbsent(key) { connect(it, spec) }
            // Closed meanwhile: closeEverything may have looked before this connection was cached; it goes too.
            if (closed) {
                if (connections.remove(key, future)) future.thenAccept { clients.close(it) }
                throw PicketClosedException()
            }
            // Almost always connected already: take it without arming a timeout (a timer task per call).
            if (future.isDone && !future.isCompletedExceptionally) {
                val connection = future.getNow(null)
                if (connection.isOpen) return connection
            }
            val connection =
                try {
                    // A copy, so that one caller's timeout or cancellation does not cancel the shared connect.
                    bounded(spec.connectTimeout, "connecting to ${key.address}") { future.copy().await() }
                } catch (e: kotlinx.coroutines.CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    // A connect that completes after the timeout must not leak its connection.
                    if (connections.remove(key, future)) future.thenAccept { clients.close(it) }
                    throw NodeConnectionException(key.address, spec.target.toString(), e)
                }
            if (connection.isOpen) return connection
            if (connections.remove(key, future)) clients.close(connection)
        }
    }

    /**
     * Closes [connection] and forgets it, if it is still the one cached for [key]; otherwise whoever removed it
     * (a switch, a scope's or the instance's close, another caller) has closed it already.
     */
    public fun discard(
        key: Key,
        connection: StatefulRedisConnection<String, String>,
    ) {
        val future = connections[key] ?: return
        if (future.isDone && !future.isCompletedExceptionally && future.getNow(null) === connection) {
            if (connections.remove(key, future)) clients.close(connection)
        }
    }

    /** Closes every connection to [address] at once, so that no further command reaches it. Returns how many. */
    public fun closeAll(address: Address): Int {
        val keys = connections.keys.filter { it.address == address }
        keys.forEach { key -> connections.remove(key)?.thenAccept { clients.close(it) } }
        dedicated.closeAll(address)
        return keys.size
    }

    /** Closes every connection, shared and dedicated, whose key is in [scope]. Returns how many were shared. */
    public fun closeScope(scope: String): Int {
        val keys = connections.keys.filter { it.scope == scope }
        keys.forEach { key -> connections.remove(key)?.thenAccept { clients.close(it) } }
        dedicated.closeScope(scope)
        return keys.size
    }

    /** The addresses connected to now. */
    public fun addresses(): Set<Address> = connections.keys.mapTo(mutableSetOf()) { it.address }

    /** An open connection to [address] with any credentials, to check its role, or null. */
    public fun anyOpen(address: Address): Pair<Key, StatefulRedisConnection<String, String>>? =
        connections.entries
            .filter { it.key.address == address }
            .firstNotNullOfOrNull { (key, future) ->
                future.takeIf { it.isDone && !it.isCompletedExceptionally }?.getNow(null)?.takeIf { it.isOpen }?.let {
                    key to
                        it
                }
            }

    /**
     * Closes every connection, shared and dedicated; the future completes when Lettuce has closed them all, so that
     * the clients can be shut down after, without closing any of them a second time.
     */
    @Suppress("SpreadOperator") // once per instance
    internal fun closeEverything(): CompletableFuture<Void> {
        closed = true
        val closing =
            connections.keys.toList().mapNotNull { key ->
                connections.remove(key)?.thenCompose { clients.close(it) }?.exceptionally { null }
            }
        return CompletableFuture.allOf(*(closing + dedicated.closeEverything()).toTypedArray())
    }

    /** A new connection for [key], not cached. */
    internal fun connect(
        key: Key,
        spec: ConnSpec,
    ): CompletableFuture<StatefulRedisConnection<String, String>> =
        if (closed) {
            CompletableFuture.failedFuture(PicketClosedException())
        } else {
            clients.of(key.keepAlive, key.tls).connectAsync(StringCodec.UTF8, uri(key, spec)).toCompletableFuture()
        }

    public companion object {
        /** Where and how a connection for [key] connects: the mapped address, credentials, database, TLS. */
        public fun uri(
            key: Key,
            spec: ConnSpec,
        ): RedisURI {
            val uri =
                RedisURI
                    .builder()
                    .withHost(key.connectTo.host)
                    .withPort(key.connectTo.port)
                    .withDatabase(key.database)
                    .withTimeout(spec.commandTimeout)
            when {
                key.username != null -> uri.withAuthentication(key.username, key.password.orEmpty())
                key.password != null -> uri.withPassword(key.password.toCharArray())
            }
            key.clientName?.let { uri.withClientName(it) }
            key.tls?.let { uri.withSsl(true).withVerifyPeer(verifyMode(it)) }
            return uri.build()
        }
    }
}
