package picket.samples

import picket.core.Address
import picket.core.Picket
import picket.core.SentinelGroup
import picket.monitor.Monitor
import picket.monitor.MonitorServer
import picket.monitor.SentinelNodeWatcher
import picket.testkit.Topology
import picket.testkit.TopologyConfig
import java.net.InetSocketAddress
import java.net.URI
import java.util.concurrent.CountDownLatch

/**
 * The monitor's example server (the seed's `info_server.py`): starts a topology (1 master, 2 replicas, 3 sentinels)
 * with the test kit, a [Monitor] that finds every node through the sentinels, and its HTTP server on the loopback.
 * Query it with [InfoClient] or curl; stop it with Ctrl-C.
 *
 * Arguments: `--port=N` (default 9380; 0 for any free port), `--seconds=N` (stop after N seconds; default: run until
 * interrupted).
 */
object InfoServer {
    @JvmStatic
    fun main(args: Array<String>) {
        val options = Args(args)
        val stop = CountDownLatch(1)
        Runtime.getRuntime().addShutdownHook(Thread { stop.countDown() })
        serve(options.int("port", DEFAULT_PORT)) { uri ->
            println("serving $uri: GET /info, POST /refresh, GET /nodes, GET /metrics; Ctrl-C stops")
            println("try: curl '$uri/info?role=master&key=used_memory,connected_clients'")
            val seconds = options.int("seconds", 0)
            if (seconds > 0) stop.await(seconds.toLong(), java.util.concurrent.TimeUnit.SECONDS) else stop.await()
        }
        println("server stopped, topology stopped")
    }

    /** Starts everything, runs [whileServing] with the server's address, then stops everything. */
    fun serve(
        port: Int,
        whileServing: (URI) -> Unit,
    ) {
        Topology.start(TopologyConfig()).use { topology ->
            Picket().use { picket ->
                picket.setSentinelGroups("demo" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
                serve(Monitor(picket, listOf(SentinelNodeWatcher(picket))), port, topology.nodes.size, whileServing)
            }
        }
    }

    private fun serve(
        monitor: Monitor,
        port: Int,
        nodes: Int,
        whileServing: (URI) -> Unit,
    ) = monitor.use {
        MonitorServer(monitor, InetSocketAddress("127.0.0.1", port)).start().use { server ->
            awaitPolled(monitor, nodes)
            whileServing(server.uri)
        }
    }

    /** Waits (at most 20 s) until [count] nodes have INFO, so that the first query finds them all. */
    private fun awaitPolled(
        monitor: Monitor,
        count: Int,
    ) {
        val deadline = System.nanoTime() + AWAIT_NANOS
        while (monitor.states().count { it.info != null } < count && System.nanoTime() < deadline) Thread.sleep(POLL_MS)
    }

    private const val DEFAULT_PORT = 9380
    private const val AWAIT_NANOS = 20_000_000_000L
    private const val POLL_MS = 50L
}

/** `--name=value` arguments; one argument may hold several, separated by spaces (as `-Dpicket.demo.args` gives). */
class Args(
    args: Array<String>,
) {
    val values: Map<String, String> =
        args
            .flatMap { it.split(" ") }
            .filter { it.isNotBlank() }
            .associate { it.removePrefix("--").substringBefore("=") to it.substringAfter("=", "") }

    fun int(
        name: String,
        default: Int,
    ): Int = values[name]?.toIntOrNull() ?: default
}
