package picket.monitor

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import io.github.oshai.kotlinlogging.KotlinLogging
import picket.core.InvalidSpecException
import picket.core.PicketClosedException
import picket.monitor.internal.HttpQuery
import picket.monitor.internal.JsonWriter
import picket.monitor.internal.PrometheusWriter
import java.io.ByteArrayOutputStream
import java.net.InetSocketAddress
import java.net.URI
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import java.util.concurrent.atomic.AtomicInteger

private val log = KotlinLogging.logger {}

/**
 * Serves a [Monitor] over HTTP (as the seed's example serves its servicer over XML-RPC), on the JDK's built-in
 * `com.sun.net.httpserver`: `GET /info` answers an [InfoQuery] as JSON, `POST /refresh` forces a refresh first,
 * `GET /nodes` lists every node's state, `GET /metrics` gives the main figures in Prometheus' text format. The
 * module README documents the parameters and the JSON.
 *
 * ```kotlin
 * MonitorServer(monitor, InetSocketAddress("127.0.0.1", 9380)).start().use { server -> println(server.uri) }
 * ```
 *
 * It binds where it is told: the loopback by choice, or an interface behind your own access control (it has none).
 *
 * @param threads requests served at once.
 */
public class MonitorServer
    @JvmOverloads
    constructor(
        private val monitor: Monitor,
        private val address: InetSocketAddress,
        private val threads: Int = DEFAULT_THREADS,
    ) : AutoCloseable {
        init {
            if (threads < 1) throw InvalidSpecException("server threads is $threads, must be >= 1")
        }

        private val server: HttpServer = HttpServer.create()
        private var executor: ExecutorService? = null

        /** The port it listens on (the one chosen, for port 0), once started. */
        public val port: Int get() = server.address.port

        /** `http://host:port` of the server, once started. */
        public val uri: URI get() = URI("http://${server.address.hostString}:$port")

        /**
         * Binds and starts serving; returns this.
         *
         * @throws java.io.IOException if the address cannot be bound.
         */
        public fun start(): MonitorServer {
            server.bind(address, 0)
            val count = AtomicInteger()
            val pool =
                Executors.newFixedThreadPool(threads) { task ->
                    Thread(task, "picket-monitor-http-${count.incrementAndGet()}").apply { isDaemon = true }
                }
            executor = pool
            server.executor = pool
            server.createContext("/") { exchange -> handle(exchange) }
            server.start()
            log.info { "monitor HTTP server on $uri" }
            return this
        }

        /** Stops serving, waiting at most a second for requests in progress. */
        override fun close() {
            server.stop(1)
            executor?.shutdownNow()
            executor?.awaitTermination(1, TimeUnit.SECONDS)
        }

        private fun handle(exchange: HttpExchange) {
            try {
                val path = exchange.requestURI.path
                val method = exchange.requestMethod
                try {
                    when (path) {
                        "/info" -> {
                            json(
                                exchange,
                                method,
                                "GET",
                            ) { query, out -> query.writer.result(monitor.query(query.query), out) }
                        }

                        "/refresh" -> {
                            // On the request thread; the refresh bounds each node's poll by its timeouts.
                            json(exchange, method, "POST") { query, out ->
                                query.writer.result(monitor.blocking().refresh(query.query), out)
                            }
                        }

                        "/nodes" -> {
                            json(exchange, method, "GET") { query, out -> query.writer.states(monitor.states(), out) }
                        }

                        "/metrics" -> {
                            metrics(exchange, method)
                        }

                        else -> {
                            error(
                                exchange,
                                404,
                                "NotFound",
                                "no endpoint $path (try /info, /refresh, /nodes, /metrics)",
                            )
                        }
                    }
                } catch (
                    // The request thread must answer whatever happened, or the client waits for nothing.
                    @Suppress("TooGenericExceptionCaught") e: Throwable,
                ) {
                    failed(exchange, e)
                }
            } finally {
                exchange.close()
            }
        }

        private fun json(
            exchange: HttpExchange,
            method: String,
            allowed: String,
            body: (HttpQuery, ByteArrayOutputStream) -> Unit,
        ) {
            if (method != allowed) {
                exchange.responseHeaders.add("Allow", allowed)
                error(exchange, 405, "MethodNotAllowed", "${exchange.requestURI.path} takes $allowed, not $method")
                return
            }
            val query = HttpQuery.parse(exchange.requestURI.rawQuery)
            val out = ByteArrayOutputStream()
            body(query, out)
            send(exchange, 200, JSON, out.toByteArray())
        }

        private fun metrics(
            exchange: HttpExchange,
            method: String,
        ) {
            if (method != "GET") {
                error(exchange, 405, "MethodNotAllowed", "/metrics takes GET, not $method")
                return
            }
            val out = ByteArrayOutputStream()
            PrometheusWriter.write(monitor.states(), out)
            send(exchange, 200, PrometheusWriter.CONTENT_TYPE, out.toByteArray())
        }

        private fun failed(
            exchange: HttpExchange,
            e: Throwable,
        ) {
            val status =
                when (e) {
                    is UnknownNodeException -> 404
                    is NodeNotPolledException -> 503
                    is InvalidSpecException, is UnknownSectionException -> 400
                    is PicketClosedException -> 503
                    is TimeoutException -> 504
                    else -> 500
                }
            if (status == 500) log.warn(e) { "monitor HTTP request ${exchange.requestURI} failed" }
            error(exchange, status, e::class.simpleName ?: "Error", e.message ?: e.toString())
        }

        private fun error(
            exchange: HttpExchange,
            status: Int,
            type: String,
            message: String,
        ) {
            val out = ByteArrayOutputStream()
            JsonWriter(int64AsString = false).error(type, message, status, out)
            send(exchange, status, JSON, out.toByteArray())
        }

        private fun send(
            exchange: HttpExchange,
            status: Int,
            contentType: String,
            body: ByteArray,
        ) {
            exchange.responseHeaders.set("Content-Type", contentType)
            exchange.sendResponseHeaders(status, body.size.toLong())
            exchange.responseBody.write(body)
        }

        public companion object {
            /** Requests served at once by default: 4. */
            public const val DEFAULT_THREADS: Int = 4
            private const val JSON = "application/json; charset=utf-8"
        }
    }
