package picket.testkit

import io.github.oshai.kotlinlogging.KotlinLogging
import java.io.IOException
import java.io.InputStream
import java.io.OutputStream
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.ConcurrentHashMap

private val log = KotlinLogging.logger {}

/**
 * A TCP forwarder on loopback: every connection made to [port] is relayed, byte for byte and both ways, to
 * [targetHost]:[targetPort]. For specs of address mapping (NAT, containers): nodes announce their own ports while
 * clients reach them through forwarders. [outgoingPorts] are the local ports of the connections it opened to the
 * target — what the target sees in `CLIENT LIST` — so a spec can tell relayed clients from direct ones.
 *
 * ```kotlin
 * PortForwarder.start(node.host, node.port).use { forwarder -> connect("127.0.0.1", forwarder.port) }
 * ```
 */
public class PortForwarder private constructor(
    private val server: ServerSocket,
    public val targetHost: String,
    public val targetPort: Int,
) : AutoCloseable {
    private val sockets: MutableSet<Socket> = ConcurrentHashMap.newKeySet()
    private val outgoing: MutableSet<Int> = ConcurrentHashMap.newKeySet()

    /** The loopback port it listens on. */
    public val port: Int get() = server.localPort

    /** The local ports of every connection it opened to the target so far. */
    public val outgoingPorts: Set<Int> get() = outgoing.toSet()

    private fun acceptLoop() {
        while (!server.isClosed) {
            val client =
                try {
                    server.accept()
                } catch (e: IOException) {
                    log.debug { "forwarder $port stops accepting: ${e.message}" }
                    return
                }
            relay(client)
        }
    }

    private fun relay(client: Socket) {
        val target =
            try {
                Socket(targetHost, targetPort)
            } catch (e: IOException) {
                log.debug { "forwarder $port cannot reach $targetHost:$targetPort: ${e.message}" }
                client.close()
                return
            }
        outgoing += target.localPort
        sockets += client
        sockets += target
        pump(client.getInputStream(), target.getOutputStream(), client, target)
        pump(target.getInputStream(), client.getOutputStream(), target, client)
    }

    private fun pump(
        from: InputStream,
        to: OutputStream,
        source: Socket,
        sink: Socket,
    ) {
        Thread({
            val buffer = ByteArray(BUFFER)
            try {
                while (true) {
                    val read = from.read(buffer)
                    if (read < 0) break
                    to.write(buffer, 0, read)
                    to.flush()
                }
            } catch (e: IOException) {
                log.trace { "forwarder $port: ${e.message}" }
            } finally {
                // One side closed: close both, as a NAT drops the flow.
                listOf(source, sink).forEach {
                    sockets -= it
                    it.close()
                }
            }
        }, "forwarder-$port").apply {
            isDaemon = true
            start()
        }
    }

    /** Stops listening and closes every relayed connection. */
    override fun close() {
        server.close()
        sockets.toList().forEach { it.close() }
        sockets.clear()
    }

    override fun toString(): String = "PortForwarder($port -> $targetHost:$targetPort)"

    public companion object {
        private const val BUFFER = 16 * 1024

        /** A forwarder on a free loopback port to [targetHost]:[targetPort], accepting at once. */
        @JvmStatic
        public fun start(
            targetHost: String,
            targetPort: Int,
        ): PortForwarder {
            val server = ServerSocket()
            server.bind(InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            val forwarder = PortForwarder(server, targetHost, targetPort)
            Thread(forwarder::acceptLoop, "forwarder-accept-${server.localPort}").apply {
                isDaemon = true
                start()
            }
            return forwarder
        }
    }
}
