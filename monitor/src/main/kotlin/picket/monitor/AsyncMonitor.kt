package picket.monitor

import picket.core.InternalPicketApi
import java.util.concurrent.CompletableFuture

/**
 * The future form of [Monitor], for Java: [Monitor.async]. Each method is the Kotlin member of the same name, started
 * at once; its future completes with the result or the same typed error, on a Picket thread. Cancelling the future
 * cancels what it waits for.
 *
 * ```java
 * monitor.async().refresh(InfoQuery.builder().role(Role.MASTER).build()).thenAccept(result -> report(result));
 * ```
 */
@OptIn(InternalPicketApi::class)
public class AsyncMonitor internal constructor(
    private val monitor: Monitor,
) {
    /** [Monitor.refresh]: completes with the answer once the nodes [query] concerns were polled. */
    public fun refresh(query: InfoQuery): CompletableFuture<InfoResult> = monitor.calls.async { monitor.refresh(query) }
}
