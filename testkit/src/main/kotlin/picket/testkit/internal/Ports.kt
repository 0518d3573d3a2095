package picket.testkit.internal

import java.net.InetAddress
import java.net.ServerSocket
import java.util.concurrent.ConcurrentHashMap

/** Free loopback ports, never the same one twice in a JVM. */
internal object Ports {
    private const val ATTEMPTS = 100
    private val handedOut = ConcurrentHashMap.newKeySet<Int>()

    fun next(): Int {
        repeat(ATTEMPTS) {
            ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { socket ->
                if (handedOut.add(socket.localPort)) return socket.localPort
            }
        }
        error("no free loopback port after $ATTEMPTS attempts")
    }
}
