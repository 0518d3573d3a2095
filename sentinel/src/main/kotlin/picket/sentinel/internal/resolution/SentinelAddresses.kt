package picket.sentinel.internal.resolution

import io.github.oshai.kotlinlogging.KotlinLogging
import picket.core.Address
import java.net.InetAddress
import java.net.UnknownHostException
import java.util.concurrent.ConcurrentHashMap

private val log = KotlinLogging.logger {}

/**
 * Sentinel addresses compared as the sentinels they reach, not as text: `localhost:26380` configured and
 * `127.0.0.1:26380` announced (`SENTINEL SENTINELS`, `+sentinel`) are one sentinel, with one subscription. Two
 * addresses are the same sentinel when their ports are equal and their hosts resolve to the same one machine
 * (loopback addresses counting as one); a name that resolves to several machines, as a headless service's does, is
 * the same as none of them, and a host that does not resolve is compared as text. Resolutions are remembered for
 * [TTL_NANOS].
 */
internal object SentinelAddresses {
    private class Resolved(
        val addresses: Set<InetAddress>,
        val at: Long,
    )

    private val resolved = ConcurrentHashMap<String, Resolved>()

    /** Whether [a] and [b] reach the same sentinel. */
    fun same(
        a: Address,
        b: Address,
    ): Boolean {
        if (a.port != b.port) return false
        if (a.host.equals(b.host, ignoreCase = true)) return true
        val left = machine(resolve(a.host))
        return left != null && left == machine(resolve(b.host))
    }

    /**
     * The one machine [addresses] reach, or null if they are none or several: a name that resolves to several
     * sentinels (a headless service, DNS round robin) is never one of them. Loopback addresses (`127.0.0.1`, `::1`,
     * both of which `localhost` may resolve to) are one machine.
     */
    private fun machine(addresses: Set<InetAddress>): Any? {
        val machines = addresses.mapTo(mutableSetOf()) { if (it.isLoopbackAddress) LOOPBACK else it }
        return machines.singleOrNull()
    }

    private val LOOPBACK = Any()

    /** The addresses of [candidates] that are none of [known] (nor an earlier candidate), in order. */
    fun novel(
        known: Collection<Address>,
        candidates: Collection<Address>,
    ): List<Address> {
        val kept = mutableListOf<Address>()
        candidates.forEach { candidate ->
            if ((known + kept).none { same(it, candidate) }) kept += candidate
        }
        return kept
    }

    private fun resolve(host: String): Set<InetAddress> {
        val now = System.nanoTime()
        resolved[host]?.takeIf { now - it.at < TTL_NANOS }?.let { return it.addresses }
        val addresses =
            try {
                InetAddress.getAllByName(host.removeSurrounding("[", "]")).toSet()
            } catch (e: UnknownHostException) {
                log.debug { "sentinel host $host does not resolve (${e.message}): compared as text" }
                emptySet()
            } catch (e: SecurityException) {
                log.debug { "sentinel host $host may not be resolved (${e.message}): compared as text" }
                emptySet()
            }
        resolved[host] = Resolved(addresses, now)
        return addresses
    }

    /** How long a host's resolution is used: a sentinel's name may move to another address. */
    private const val TTL_NANOS = 60_000_000_000L
}
