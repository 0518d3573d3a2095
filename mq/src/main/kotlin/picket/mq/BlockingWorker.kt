package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.time.Duration

/**
 * The blocking form of [Worker], for Java: [Worker.blocking]. Each method is the Kotlin member of the same name, run on
 * the calling thread until it returns; an interrupt throws `PicketInterruptedException`, the flag kept.
 *
 * ```java
 * boolean drained = worker.blocking().stop(Duration.ofSeconds(5));
 * ```
 */
@OptIn(InternalPicketApi::class)
public class BlockingWorker<T> internal constructor(
    private val worker: Worker<T>,
) {
    /**
     * [Worker.stop]: stops taking messages and waits up to [drainTimeout] for the running handlers; true if every
     * handler finished within it.
     */
    @JvmOverloads
    public fun stop(drainTimeout: Duration = worker.options.drainTimeout): Boolean =
        worker.queues.picket
            .javaCalls()
            .blocking("stop of the worker of queue '${worker.queue}'") { worker.stop(drainTimeout) }
}
