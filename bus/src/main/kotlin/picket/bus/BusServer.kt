package picket.bus

import java.time.Duration
import java.util.concurrent.CompletableFuture

/**
 * Workers serving some of a [Bus]'s methods, started by [Bus.serve]. Stop it to end them; closing the bus stops it
 * too.
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
    public suspend fun stop(drainTimeout: Duration = Duration.ofSeconds(10)): Boolean

    /** [stop] for Java, on the calling thread. */
    public fun stopBlocking(drainTimeout: Duration): Boolean

    /**
     * Waits until the workers stop: by [stop], by the bus closing, or, in debug mode, at the first exception of a
     * method, which this then throws as [DebugStopException] (the method's exception, with its full stack, is its
     * cause).
     */
    public suspend fun join()

    /** [join] for Java, as a future (completed with null, or with [join]'s exception). */
    public fun joinAsync(): CompletableFuture<Void?>

    /** Stops with the default drain timeout. */
    override fun close()
}
