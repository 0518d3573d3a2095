package picket.core.internal.connections

import io.lettuce.core.resource.ClientResources
import io.lettuce.core.resource.DefaultClientResources
import io.netty.util.Timer
import io.netty.util.concurrent.DefaultThreadFactory

/**
 * The Lettuce resources (event loops, computation threads, timer) a Picket instance makes for itself when it is
 * given none to share, sized for a client library: [ioThreads] I/O threads and Lettuce's minimum of computation
 * threads, and [commandTimer]'s 10 ms timer. Every thread is a daemon named `picket-…`
 * (`picket-lettuce-nioEventLoop-4-1`), so that a thread dump says whose it is; threads start on first use and end
 * when the resources are shut down.
 */
internal object OwnedResources {
    /**
     * I/O threads: a connection lives on one event loop, and Picket holds few connections per node (one multiplexed,
     * a small dedicated pool, one subscription per sentinel), so more loops than cores, or than 4, add threads and no
     * throughput. Lettuce's minimum is 2.
     */
    val ioThreads: Int = Runtime.getRuntime().availableProcessors().coerceIn(MIN_THREADS, MAX_IO_THREADS)

    /**
     * Resources for the connections `withConn` and the sentinels use, firing command timeouts from [timer] (see
     * [commandTimer]); the caller stops it after shutting the resources down.
     */
    fun create(timer: Timer): ClientResources =
        DefaultClientResources
            .builder()
            .ioThreadPoolSize(ioThreads)
            .timer(timer)
            // Lettuce runs its events and command timeouts there, nothing of Picket's: its minimum is enough.
            .computationThreadPoolSize(MIN_THREADS)
            .threadFactoryProvider { pool -> DefaultThreadFactory("picket-$pool", true) }
            .build()

    /**
     * Event loops of their own for pub/sub connections (a listener with a full buffer holds its I/O thread, which must
     * not stall `withConn` connections); the timer and computation threads are [main]'s, so pub/sub adds only its two
     * I/O threads. Shutting these down leaves [main]'s threads alone.
     */
    fun forPubSub(main: ClientResources): ClientResources =
        DefaultClientResources
            .builder()
            .ioThreadPoolSize(MIN_THREADS)
            .eventExecutorGroup(main.eventExecutorGroup())
            .timer(main.timer())
            .threadFactoryProvider { pool -> DefaultThreadFactory("picket-pubsub-$pool", true) }
            .build()

    /** Lettuce raises smaller pools to 2 (and logs it). */
    private const val MIN_THREADS = 2
    private const val MAX_IO_THREADS = 4
}
