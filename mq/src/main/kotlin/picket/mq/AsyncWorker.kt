package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.time.Duration
import java.util.concurrent.CompletableFuture

/**
 * The future form of [Worker], for Java: [Worker.async]. Each method is the Kotlin member of the same name, started
 * at once.
 *
 * ```java
 * worker.async().stop().thenAccept(drained -> log.info("worker drained: {}", drained));
 * ```
 */
@OptIn(InternalPicketApi::class)
public class AsyncWorker<T> internal constructor(
    private val worker: Worker<T>,
) {
    /**
     * [Worker.stop]: stops taking messages and waits up to [drainTimeout] for the running handlers; completes with
     * true if every handler finished within it.
     */
    @JvmOverloads
    public fun stop(drainTimeout: Duration = worker.options.drainTimeout): CompletableFuture<Boolean> =
        worker.queues.picket
            .javaCalls()
            .async { worker.stop(drainTimeout) }
}
