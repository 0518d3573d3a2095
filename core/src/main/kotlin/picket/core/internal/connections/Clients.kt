package picket.core.internal.connections

import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisConnectionStateListener
import io.lettuce.core.SocketOptions
import io.lettuce.core.SslOptions
import io.lettuce.core.SslVerifyMode
import io.lettuce.core.TimeoutOptions
import io.lettuce.core.api.StatefulConnection
import io.lettuce.core.resource.ClientResources
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.future.await
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.KeepAlive
import picket.core.NodeConnectionException
import picket.core.PicketClosedException
import picket.core.Tls
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit

/**
 * Lettuce clients, one per distinct TCP keepalive and TLS setting (Lettuce applies socket and SSL options per
 * client), all on the same event loops and threads ([resources]).
 */
@InternalPicketApi
public class Clients(
    private val resources: ClientResources,
    /** Told of every connection of these clients that closes (pub/sub listeners watch theirs). */
    private val stateListener: RedisConnectionStateListener? = null,
) {
    private val bySettings = ConcurrentHashMap<Settings, RedisClient>()

    /** Set by [shutdown]: no client is made after it (a late caller gets [PicketClosedException]). */
    @Volatile
    private var shutDown = false

    /** The map key: [ConcurrentHashMap] takes no null. */
    private data class Settings(
        val keepAlive: KeepAlive?,
        val tls: Tls?,
    )

    public fun of(
        keepAlive: KeepAlive?,
        tls: Tls?,
    ): RedisClient {
        if (shutDown) throw PicketClosedException()
        return bySettings.computeIfAbsent(Settings(keepAlive, tls)) { create(keepAlive, tls) }
    }

    private fun create(
        keepAlive: KeepAlive?,
        tls: Tls?,
    ): RedisClient =
        RedisClient.create(resources).apply {
            stateListener?.let { addListener(it) }
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
                    .apply { if (tls != null) sslOptions(ssl(tls)) }
                    .build()
        }

    private fun ssl(tls: Tls): SslOptions =
        SslOptions
            .builder()
            .jdkSslProvider()
            .apply {
                tls.trustedCertificates?.let { trustManager(it.toFile()) }
                tls.trustStore?.let { truststore(it.toFile(), tls.trustStorePassword.orEmpty()) }
                val certificate = tls.clientCertificate
                val key = tls.clientKey
                if (certificate != null && key != null) keyManager(certificate.toFile(), key.toFile(), null)
            }.build()

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

    /** Closes started by [close] and not completed yet. */
    private val closing: MutableSet<CompletableFuture<Void>> = ConcurrentHashMap.newKeySet()

    /**
     * Closes [connection], once (its owner's business), and remembers the close until it completes: [shutdown] waits
     * for it. Lettuce's client shutdown closes every connection not yet fully closed, so a close still in flight
     * would be made a second time, and Lettuce warns "Connection is already closed".
     */
    public fun close(connection: StatefulConnection<*, *>): CompletableFuture<Void> {
        val future = connection.closeAsync()
        closing += future
        future.whenComplete { _, _ -> closing -= future }
        return future
    }

    /** Waits (at most [seconds]) for the closes in flight, then shuts the clients down. */
    public fun shutdown(seconds: Long) {
        shutDown = true
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        // A copy through toArray: closes completing meanwhile leave the set (Kotlin's toList may then fail).
        ArrayList(closing).forEach { close ->
            runCatching { close.get((deadline - System.nanoTime()).coerceAtLeast(0), TimeUnit.NANOSECONDS) }
        }
        bySettings.values.forEach { it.shutdown(0, seconds, TimeUnit.SECONDS) }
        bySettings.clear()
    }

    private companion object {
        /** The socket's own bound; each connect is also bounded by its spec's or group's connect timeout. */
        val MAX_CONNECT_TIMEOUT: Duration = Duration.ofSeconds(10)
    }
}

/** Lettuce's peer check for [tls]: the chain and the host name, or the chain only. */
@InternalPicketApi
public fun verifyMode(tls: Tls): SslVerifyMode = if (tls.verifyHostname) SslVerifyMode.FULL else SslVerifyMode.CA

/**
 * The connection [future] gives within [timeout] ([what] names it in the timeout's message); one that completes
 * after a timeout, a failure or a cancellation is given to [closeLate], never leaked.
 */
@InternalPicketApi
public suspend fun <C : StatefulConnection<*, *>> connectedWithin(
    future: CompletableFuture<C>,
    timeout: Duration,
    what: String,
    closeLate: (C) -> Unit,
): C =
    try {
        bounded(timeout, what) { future.copy().await() }
    } catch (
        @Suppress("TooGenericExceptionCaught") e: Exception,
    ) {
        future.thenAccept(closeLate)
        throw e
    }

/**
 * The connection [future] gives, within [spec]'s connect timeout; a connect that completes after a timeout or a
 * cancellation is closed, never leaked.
 *
 * @throws NodeConnectionException if it fails or times out.
 */
internal suspend fun <C : StatefulConnection<*, *>> awaitConnect(
    future: CompletableFuture<C>,
    key: DataConnections.Key,
    spec: ConnSpec,
): C =
    try {
        connectedWithin(future, spec.connectTimeout, "connecting to ${key.address}") { it.closeAsync() }
    } catch (e: CancellationException) {
        throw e
    } catch (
        @Suppress("TooGenericExceptionCaught") e: Exception,
    ) {
        throw NodeConnectionException(key.address, spec.target.toString(), e)
    }
