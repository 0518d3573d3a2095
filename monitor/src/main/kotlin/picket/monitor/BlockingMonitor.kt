package picket.monitor

import picket.core.InternalPicketApi

/**
 * The blocking form of [Monitor], for Java: [Monitor.blocking]. Each method is the Kotlin member of the same name,
 * run on the calling thread until it returns (Picket's Java convention, core's `engine/JavaCalls.kt`): an interrupt
 * cancels it and throws [picket.core.PicketInterruptedException] with the thread's interrupt flag set again.
 *
 * ```java
 * InfoResult fresh = monitor.blocking().refresh(InfoQuery.builder().nodes("10.0.0.5:6379").build());
 * ```
 */
@OptIn(InternalPicketApi::class)
public class BlockingMonitor internal constructor(
    private val monitor: Monitor,
) {
    /**
     * [Monitor.refresh]: polls the nodes [query] concerns now, then answers it from what they said (a node that does
     * not answer within its timeouts with its last good INFO).
     *
     * @throws UnknownNodeException as [Monitor.query] does; so do its other errors.
     * @throws picket.core.PicketClosedException if the monitor is closed.
     */
    public fun refresh(query: InfoQuery): InfoResult =
        monitor.calls.blocking("refresh of the monitor") { monitor.refresh(query) }
}
