@file:Suppress("SpreadOperator") // Lettuce takes script arguments as varargs; a handful of method names per call

package picket.bus.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.internal.runScript
import picket.core.internal.unlessCancelled
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/**
 * The leases of one bus instance: every third of the lease, the beat script renews its own lease and those of the
 * methods it registered and serves, and reaps dead instances (their running calls answered as lost); registrations
 * found missing are written again. [leave] drops them all at once when the bus closes.
 */
internal class Heartbeat(
    private val bus: RealBus,
) {
    /** The methods this instance's servers serve, with how many servers serve each. */
    private val served = ConcurrentHashMap<String, Int>()
    private val beating = AtomicBoolean(false)

    /** Counts [methods] as served (by one more server): the next beat leases them as worked. */
    fun serving(methods: List<String>) {
        methods.forEach { served.merge(it, 1, Int::plus) }
    }

    /** Counts [methods] as served by one server less; returns those no server serves any more. */
    fun unserving(methods: List<String>): List<String> =
        methods.filter { method -> served.computeIfPresent(method) { _, n -> if (n <= 1) null else n - 1 } == null }

    /** Starts beating, once. */
    fun start() {
        if (!beating.compareAndSet(false, true)) return
        // A thread of its own (a view of Dispatchers.IO): a busy or blocked Dispatchers.Default cannot starve the
        // heartbeat, whose lapse would get this instance reaped while alive.
        bus.scope.launch(Dispatchers.IO.limitedParallelism(1)) {
            while (isActive) {
                val period = bus.settings().lease.toMillis() / BEATS_PER_LEASE
                delay(period)
                unlessCancelled({ e ->
                    if (bus.closedCause(e)) {
                        bus.terminate(e)
                        return@launch
                    }
                    log.debug { "bus '${bus.name}' heartbeat failed: ${e.message}" }
                }) { beat() }
            }
        }
    }

    /** Renews this instance's leases, reaps dead instances; registrations found missing are written again. */
    suspend fun beat() {
        val settings = bus.settings()
        val owned = bus.registry.owned
        val mine = owned.keys.toList()
        val serving = served.keys.toList()
        val keys = bus.keys
        val reply =
            bus.multi(
                Scripts.BEAT,
                arrayOf(keys.instances, keys.methods, keys.index),
                bus.instance,
                settings.lease.toMillis().toString(),
                keys.root,
                settings.resultRetention.toMillis().toString(),
                mine.size.toString(),
                *mine.toTypedArray(),
                *serving.toTypedArray(),
            )
        reply.drop(1).forEach { missing ->
            owned[missing.toString()]?.let { own ->
                log.info { "bus '${bus.name}': registration of '$missing' was gone from Redis; registering it again" }
                runCatching { bus.registry.registerAgain(own, settings) }
            }
        }
    }

    /** A graceful leave: this instance's leases, registrations and worker entries go at once (the leave script). */
    suspend fun leave() {
        val mine =
            bus.registry.owned.keys
                .toList()
        val serving = served.keys.toList()
        val keys = bus.keys
        bus.picket.withConn(bus.spec) {
            runScript<Long>(
                Scripts.LEAVE,
                ScriptOutputType.INTEGER,
                arrayOf(keys.instances, keys.methods, keys.index),
                bus.instance,
                keys.root,
                mine.size.toString(),
                *mine.toTypedArray(),
                *serving.toTypedArray(),
            )
        }
    }

    private companion object {
        const val BEATS_PER_LEASE = 3
    }
}
