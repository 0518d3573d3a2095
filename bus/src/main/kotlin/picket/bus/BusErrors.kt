package picket.bus

import picket.core.PicketException
import java.time.Duration

/** The root of the bus's own errors; the resolver's errors ([picket.core.PicketException] subtypes) pass through. */
public abstract class BusException(
    message: String,
    cause: Throwable? = null,
) : PicketException(message, cause)

/**
 * The remote method threw: [remoteType] is the exception's class name on the worker, [remoteMessage] its message,
 * [remoteStack] its stack trace as text when the worker ran in debug mode (null otherwise).
 */
public class RemoteException(
    public val method: String,
    public val remoteType: String,
    public val remoteMessage: String?,
    public val remoteStack: String? = null,
) : BusException("bus method '$method' failed on its worker: $remoteType: ${remoteMessage ?: "(no message)"}")

/** No method named [method] is registered on bus [bus] ([known] are). */
public class UnknownMethodException(
    public val bus: String,
    public val method: String,
    public val known: Set<String>,
) : BusException(
        "bus '$bus' has no method named '$method' (registered: ${known.sorted().joinToString().ifEmpty { "none" }})",
    )

/** [method] is registered but no live worker serves it: nothing answered within [timeout]. */
public class NoWorkerException(
    public val method: String,
    public val timeout: Duration,
) : BusException("no worker serves bus method '$method': nothing answered within ${timeout.toMillis()} ms")

/** Workers serve [method], but none answered within [timeout]; a worker that takes the call later skips it. */
public class CallTimeoutException(
    public val method: String,
    public val timeout: Duration,
) : BusException("bus method '$method' did not answer within ${timeout.toMillis()} ms")

/**
 * The worker running the call stopped before it answered: its lease ran out (the process died or lost Redis) or it
 * was stopped with the call still running. The method may or may not have run, in part or in full.
 */
public class WorkerLostException(
    public val method: String,
    public val reason: String,
) : BusException("the worker running bus method '$method' was lost: $reason")

/** The arguments do not fit [method]'s parameters: an unknown or extra argument, a missing one; nothing was sent. */
public class InvalidArgumentsException(
    public val method: String,
    public val reason: String,
) : BusException("bad arguments for bus method '$method': $reason")

/** Argument [argument] of [method] cannot be encoded as JSON; nothing was sent. */
public class ArgumentEncodingException(
    public val method: String,
    public val argument: String,
    cause: Throwable,
) : BusException(
        "argument '$argument' of bus method '$method' cannot be encoded as JSON: " +
            cause.message?.lineSequence()?.first(),
        cause,
    )

/** The result of [method] could not be decoded as [type]. */
public class ResultDecodingException(
    public val method: String,
    public val type: String,
    cause: Throwable,
) : BusException(
        "the result of bus method '$method' cannot be decoded as $type: ${cause.message?.lineSequence()?.first()}",
        cause,
    )

/**
 * A registration was refused: [method] is taken by a different definition ([existing]), or the definition itself is
 * wrong (a cache template naming an argument the method lacks, a parameter without a name, …). Nothing was stored.
 */
public class InvalidRegistrationException(
    public val method: String,
    public val reason: String,
    public val existing: String? = null,
    cause: Throwable? = null,
) : BusException("bus method '$method' cannot be registered: $reason", cause)

/** `serve` matched no registered method: [pattern] on bus [bus]. */
public class NothingToServeException(
    public val bus: String,
    public val pattern: String,
    public val known: Set<String>,
) : BusException(
        "no method of bus '$bus' matches '$pattern' (registered: ${known.sorted().joinToString().ifEmpty { "none" }})",
    )

/**
 * A worker in debug mode stopped at the first exception of a method: [method] threw [cause] (its full stack trace is
 * this exception's cause). Debug mode is for development only.
 */
public class DebugStopException(
    public val method: String,
    cause: Throwable,
) : BusException("debug mode: the worker stopped at the first exception, in bus method '$method': $cause", cause)
