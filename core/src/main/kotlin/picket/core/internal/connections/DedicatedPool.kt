package picket.core.internal.connections

import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.future.await
import kotlinx.coroutines.sync.Semaphore
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.ConnSpec
import picket.core.NodeConnectionException
import picket.core.PoolExhaustedException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedDeque

/** A connection given back to a pool, once its session state is reset; null if the reset failed. */
private typealias Idle = CompletableFuture<StatefulRedisConnection<String, String>?>

/**
 * Dedicated connections, for what must not share the multiplexed connection: blocking commands, transactions,
 * pipelines. One bounded pool per connection key (node and credentials); a block holds a connection alone for its
 * whole run. A connection whose block failed in any way (an error reply, a timeout, a lost connection, an exception
 * of the block) is closed, never returned. A healthy one is reused only once the session state a block may have left
 * is undone (`UNWATCH` and `SELECT` of the key's database; a connection left inside MULTI is closed), so the next
 * block never inherits a watch or another database. Every connection to a node
 * that is switched away from is closed at once, those in use too: a pipeline or a blocking command on a demoted
 * master fails instead of going on there.
 *
 * Each connection is closed exactly once (Lettuce warns at a second close): one in use is closed by whoever takes it
 * out of its pool's in-use set, the block that gives it back or the pool's close, never both.
 */
internal class DedicatedPool(
    private val connect: suspend (DataConnections.Key, ConnSpec) -> StatefulRedisConnection<String, String>,
    /** Closes a connection once, remembered until done ([Clients.close]). */
    private val close: (StatefulRedisConnection<String, String>) -> CompletableFuture<Void>,
) {
    private class Pool(
        val size: Int,
        val database: Int,
    ) {
        val permits = Semaphore(size)
        val idle = ConcurrentLinkedDeque<Idle>()
        val inUse: MutableSet<StatefulRedisConnection<String, String>> = ConcurrentHashMap.newKeySet()

        @Volatile
        var closed = false
    }

    private val pools = ConcurrentHashMap<DataConnections.Key, Pool>()

    /**
     * Runs [block] on a connection of its own to [key]'s node, waiting at most the spec's pool wait for one.
     *
     * @throws PoolExhaustedException if every connection stayed in use for the pool wait.
     * @throws NodeConnectionException if a new connection could not be made.
     */
    suspend fun <T> use(
        key: DataConnections.Key,
        spec: ConnSpec,
        block: suspend (StatefulRedisConnection<String, String>) -> T,
    ): T {
        // The first spec to use a key sets its size; specs that share a key share its pool.
        val pool = pools.computeIfAbsent(key) { Pool(spec.poolSize, key.database) }
        withTimeoutOrNull(spec.poolWait.toMillis()) { pool.permits.acquire() }
            ?: throw PoolExhaustedException(key.address, spec.target.toString(), pool.size, spec.poolWait)
        var connection: StatefulRedisConnection<String, String>? = null
        var healthy = false
        try {
            connection = take(pool) ?: connect(key, spec)
            pool.inUse += connection
            // Dropped while connecting: the node was switched away from.
            if (pool.closed && pool.inUse.remove(connection)) close(connection)
            val result = block(connection)
            healthy = true
            return result
        } finally {
            try {
                if (connection != null) giveBack(pool, connection, healthy)
            } finally {
                pool.permits.release()
            }
        }
    }

    /**
     * Returns [connection] to [pool] once a block's WATCH and SELECT are undone (`UNWATCH` and `SELECT` sent
     * together, off the caller's path), or closes it if its block failed or it is left inside MULTI. The next
     * taker waits for that reset (one round trip at most) rather than connect anew, so the pool holds at most its
     * size and sequential blocks reuse one connection.
     */
    private fun giveBack(
        pool: Pool,
        connection: StatefulRedisConnection<String, String>,
        healthy: Boolean,
    ) {
        // Not in use any more: the pool was closed and closed it.
        if (!pool.inUse.remove(connection)) return
        val reusable = healthy && connection.isOpen && !connection.isMulti
        if (!reusable || pool.closed) {
            close(connection)
            return
        }
        val commands = connection.async()
        val unwatch = commands.unwatch().toCompletableFuture()
        val select = commands.select(pool.database).toCompletableFuture()
        val reset: Idle =
            CompletableFuture.allOf(unwatch, select).handle { _, error ->
                if (error == null && connection.isOpen) {
                    connection
                } else {
                    close(connection)
                    null
                }
            }
        pool.idle.addFirst(reset)
        // Closed meanwhile: close() may have drained the idle ones before this one came back.
        if (pool.closed && pool.idle.remove(reset)) closeWhenReset(reset)
    }

    /** An idle connection, or null for one whose reset failed (then it is closed). */
    private suspend fun take(pool: Pool): StatefulRedisConnection<String, String>? {
        while (true) {
            val reset = pool.idle.pollFirst() ?: return null
            val connection =
                try {
                    reset.copy().await()
                } catch (e: kotlinx.coroutines.CancellationException) {
                    closeWhenReset(reset)
                    throw e
                }
            if (connection != null && connection.isOpen) return connection
            connection?.let(close)
        }
    }

    private fun closeWhenReset(reset: Idle): CompletableFuture<Void> =
        reset.thenCompose { connection -> connection?.let(close) ?: CompletableFuture.completedFuture(null) }

    /** Drops the pools of [address] and closes their connections, idle and in use. */
    fun closeAll(address: Address) {
        pools.keys.filter { it.address == address }.forEach { key -> pools.remove(key)?.let(::close) }
    }

    /** Drops the pools of connection [scope] and closes their connections, idle and in use. */
    fun closeScope(scope: String) {
        pools.keys.filter { it.scope == scope }.forEach { key -> pools.remove(key)?.let(::close) }
    }

    /** Closes every pool; the futures complete when their connections are closed. */
    fun closeEverything(): List<CompletableFuture<Void>> =
        pools.keys.toList().flatMap { key -> pools.remove(key)?.let(::close).orEmpty() }

    private fun close(pool: Pool): List<CompletableFuture<Void>> {
        pool.closed = true
        val idle = generateSequence { pool.idle.pollFirst() }.map(::closeWhenReset).toList()
        val inUse =
            pool.inUse
                .toList()
                .filter { pool.inUse.remove(it) }
                .map(close)
        return (idle + inUse).map { it.exceptionally { null } }
    }

    companion object {
        /** A connection for [key] made by [connections], awaited within the spec's connect timeout. */
        fun connector(
            connections: DataConnections,
        ): suspend (DataConnections.Key, ConnSpec) -> StatefulRedisConnection<String, String> =
            { key, spec -> awaitConnect(connections.connect(key, spec), key, spec) }
    }
}
