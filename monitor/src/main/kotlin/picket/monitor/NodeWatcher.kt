package picket.monitor

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.delay
import kotlinx.coroutines.runInterruptible
import picket.core.InvalidSpecException
import picket.monitor.internal.JavaHandlers
import java.time.Duration
import java.util.function.Supplier

/**
 * Finds the nodes to poll and reports them to a [NodeSink] (the seed's "shard watcher"): [SentinelNodeWatcher]
 * follows sentinel groups, [NodeWatcher.of] is a fixed list, and an application plugs in its own (a service
 * registry, a configuration file). Several watchers can feed one [Monitor].
 *
 * ```kotlin
 * val fromConsul = NodeWatcher { sink ->
 *     consul.watch("redis") { addresses -> sink.replaceAll(addresses.map { MonitoredNode.of(it) }) }
 * }
 * ```
 *
 * The monitor runs [watch] in a coroutine of its own and cancels it on close. If it throws, the failure is reported
 * ([MonitorEvent.WatcherFailed], the supervisor hook), the nodes it reported stay, and it is started again after a
 * capped backoff. If it returns, what it reported stays.
 *
 * [watch] is a `suspend` function, for Kotlin (hidden from Java): Java code gives its nodes with [polling] (a
 * `Supplier` called on the instance's handler executor) or [of].
 */
public fun interface NodeWatcher {
    /** Reports nodes to [sink] until cancelled (or returns once they are reported, for a fixed list). */
    @JvmSynthetic
    public suspend fun watch(sink: NodeSink)

    public companion object {
        /** A watcher that reports [nodes] once. */
        @JvmStatic
        public fun of(nodes: Collection<MonitoredNode>): NodeWatcher = StaticNodeWatcher(nodes.toList())

        /**
         * For Java and other blocking sources: calls [supplier] every [interval] and makes its answer this watcher's
         * whole set of nodes. In a [Monitor] the supplier runs on the handler executor of the monitor's Picket (the
         * one given to its builder, or kotlinx's IO threads), interruptibly: closing the monitor interrupts
         * a call still running.
         */
        @JvmStatic
        public fun polling(
            interval: Duration,
            supplier: Supplier<out Collection<MonitoredNode>>,
        ): NodeWatcher {
            if (interval.isNegative ||
                interval.isZero
            ) {
                throw InvalidSpecException("watcher interval is $interval, must be > 0")
            }
            return NodeWatcher { sink ->
                while (true) {
                    // Outside a Monitor (a Kotlin caller running watch itself) there is no instance: an I/O thread.
                    val executor = currentCoroutineContext()[JavaHandlers]?.dispatcher ?: Dispatchers.IO
                    sink.replaceAll(runInterruptible(executor) { supplier.get() })
                    delay(interval.toMillis())
                }
            }
        }
    }
}

/** Where a [NodeWatcher] reports; each watcher has its own, and its reports are its own claims (see [NodeRegistry]). */
public interface NodeSink {
    /** Reports [node] (again, or with a new description). */
    public fun add(node: MonitoredNode)

    /** This watcher no longer sees the node [id]. */
    public fun remove(id: String)

    /** This watcher sees exactly [nodes]: the others it reported before are removed (as by [remove]). */
    public fun replaceAll(nodes: Collection<MonitoredNode>)
}

/** The static list watcher: reports its nodes once and returns. */
public class StaticNodeWatcher(
    /** The nodes it reports. */
    public val nodes: List<MonitoredNode>,
) : NodeWatcher {
    @JvmSynthetic
    override suspend fun watch(sink: NodeSink) {
        sink.replaceAll(nodes)
    }

    override fun toString(): String = "StaticNodeWatcher(${nodes.size} nodes)"
}
