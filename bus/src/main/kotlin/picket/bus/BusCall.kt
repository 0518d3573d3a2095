package picket.bus

import picket.core.Picket
import picket.core.internal.javaCalls
import java.util.concurrent.CompletableFuture

/**
 * A call started by [Bus.run] (the seed's `AsyncResult`): its result can be awaited as often as wanted, from
 * coroutines ([await]), threads ([blocking]) or futures ([async]); each await gives the same value or throws the same
 * error. Implemented in `internal/RealBusCall.kt`.
 *
 * ```java
 * BusCall call = caller.run("math_sum", List.of(1, 2));
 * Integer sum = call.blocking().await(Integer.class);
 * ```
 */
public interface BusCall {
    /** The method called. */
    public val method: String

    /** Whether the call has ended (with a result or an error). */
    public val isDone: Boolean

    /** The result as plain values (numbers, strings, lists, maps, null); the call's error is thrown. */
    @JvmSynthetic
    public suspend fun await(): Any?

    /** The result decoded as [type]. */
    @JvmSynthetic
    public suspend fun <T> await(type: Class<T>): T

    /** The raw JSON result, for callers that read it themselves. */
    @JvmSynthetic
    public suspend fun awaitJson(): String

    /** The awaits for Java, on the calling thread (interruptible: the call itself goes on). */
    public fun blocking(): Blocking

    /** The awaits for Java, as futures (cancelling one does not cancel the call). */
    public fun async(): Async

    /** [BusCall]'s awaits on the calling thread: [BusCall.blocking]. */
    public class Blocking internal constructor(
        private val call: BusCall,
        picket: Picket,
    ) {
        private val java = picket.javaCalls()

        /** [BusCall.await]: the result as plain values. */
        public fun await(): Any? = java.blocking(what()) { call.await() }

        /** [BusCall.await]: the result decoded as [type]. */
        public fun <T> await(type: Class<T>): T = java.blocking(what()) { call.await(type) }

        /** [BusCall.awaitJson]: the raw JSON result. */
        public fun awaitJson(): String = java.blocking(what()) { call.awaitJson() }

        private fun what(): String = "await of bus call '${call.method}'"
    }

    /** [BusCall]'s awaits as futures: [BusCall.async]. */
    public class Async internal constructor(
        private val call: BusCall,
        picket: Picket,
    ) {
        private val java = picket.javaCalls()

        /** [BusCall.await]: the result as plain values. */
        public fun await(): CompletableFuture<Any?> = java.async { call.await() }

        /** [BusCall.await]: the result decoded as [type]. */
        public fun <T> await(type: Class<T>): CompletableFuture<T> = java.async { call.await(type) }

        /** [BusCall.awaitJson]: the raw JSON result. */
        public fun awaitJson(): CompletableFuture<String> = java.async { call.awaitJson() }
    }
}

/** The result decoded as [T]. */
public suspend inline fun <reified T> BusCall.awaitAs(): T = await(T::class.java)
