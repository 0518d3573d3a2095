package picket.bus

import picket.core.Picket
import picket.core.internal.javaCalls
import java.time.Duration
import java.util.concurrent.CompletableFuture

/**
 * Workers serving some of a [Bus]'s methods, started by [Bus.serve]. Stop it to end them; closing the bus stops it
 * too. Java waits for it through [blocking] and [async].
 *
 * ```java
 * BusServer server = bus.blocking().serve("MathApi.*", 4, false);
 * CompletableFuture<Void> ended = server.async().join();
 * server.blocking().stop(Duration.ofSeconds(5));
 * ```
 */
public interface BusServer : AutoCloseable {
    /** The methods served, in the order their queues are first tried (the order rotates per take). */
    public val methods: List<String>

    /** Calls handled so far (answered with a result or an error). */
    public val handled: Long

    /** Calls skipped because their caller's deadline had passed when a worker took them. */
    public val skipped: Long

    /** Whether the workers are running. */
    public val isRunning: Boolean

    /**
     * Stops taking calls, lets running ones finish for up to [drainTimeout], then cancels the rest (their callers get
     * [WorkerLostException]). Returns true if every running call finished in time.
     */
    @JvmSynthetic
    public suspend fun stop(drainTimeout: Duration = Duration.ofSeconds(DEFAULT_DRAIN_SECONDS)): Boolean

    /**
     * Waits until the workers stop: by [stop], by the bus closing, or, in debug mode, at the first exception of a
     * method, which this then throws as [DebugStopException] (the method's exception, with its full stack, is its
     * cause).
     */
    @JvmSynthetic
    public suspend fun join()

    /** [stop] and [join] for Java, on the calling thread. */
    public fun blocking(): Blocking

    /** [stop] and [join] for Java, as futures. */
    public fun async(): Async

    /** Stops with the default drain timeout (10 s), on the calling thread. */
    override fun close()

    /** [BusServer]'s waits on the calling thread (interruptible): [BusServer.blocking]. */
    public class Blocking internal constructor(
        private val server: BusServer,
        picket: Picket,
    ) {
        private val java = picket.javaCalls()

        /** [BusServer.stop]: true if every running call finished within [drainTimeout]. */
        @JvmOverloads
        public fun stop(drainTimeout: Duration = Duration.ofSeconds(DEFAULT_DRAIN_SECONDS)): Boolean =
            java.blocking("stop of bus server ${server.methods}") { server.stop(drainTimeout) }

        /** [BusServer.join]: returns when the workers stopped; throws [DebugStopException] after a debug stop. */
        public fun join(): Unit = java.blocking("join of bus server ${server.methods}") { server.join() }
    }

    /** [BusServer]'s waits as futures: [BusServer.async]. */
    public class Async internal constructor(
        private val server: BusServer,
        picket: Picket,
    ) {
        private val java = picket.javaCalls()

        /** [BusServer.stop]: completes with true if every running call finished within [drainTimeout]. */
        @JvmOverloads
        public fun stop(
            drainTimeout: Duration = Duration.ofSeconds(DEFAULT_DRAIN_SECONDS),
        ): CompletableFuture<Boolean> = java.async { server.stop(drainTimeout) }

        /** [BusServer.join]: completes with null when the workers stopped, or with [DebugStopException]. */
        public fun join(): CompletableFuture<Void?> =
            java.async {
                server.join()
                null
            }
    }

    /** Constants of [BusServer]. */
    public companion object {
        /** How long [stop] lets running calls finish by default, in seconds. */
        public const val DEFAULT_DRAIN_SECONDS: Long = 10L
    }
}
