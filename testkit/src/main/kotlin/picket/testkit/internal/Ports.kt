package picket.testkit.internal

import java.net.InetAddress
import java.net.ServerSocket
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue

/** Free loopback ports, never the same one twice in a JVM. */
internal object Ports {
    private const val ATTEMPTS = 100
    private val handedOut = ConcurrentHashMap.newKeySet<Int>()
    private val forced = ConcurrentLinkedQueue<Int>()

    /** Makes the next [next] return [port], taken or not: how a spec provokes a port collision. */
    fun forceNext(port: Int) {
        forced.add(port)
    }

    fun next(): Int {
        forced.poll()?.let { return it }
        repeat(ATTEMPTS) {
            ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { socket ->
                if (handedOut.add(socket.localPort)) return socket.localPort
            }
        }
        error("no free loopback port after $ATTEMPTS attempts")
    }
}
