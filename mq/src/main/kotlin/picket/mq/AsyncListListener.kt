package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.util.concurrent.CompletableFuture

/**
 * The future form of [ListListener], for Java: [ListListener.async]. Each method is the Kotlin member of the same name,
 * started at once; cancelling a future cancels it.
 *
 * ```java
 * CompletableFuture<Void> listening = listener.async().listen();   // completes after listener.stop()
 * ```
 */
@OptIn(InternalPicketApi::class)
public class AsyncListListener internal constructor(
    private val listener: ListListener,
) {
    private val calls = listener.picket.javaCalls()

    /** [ListListener.listen]: completes once [ListListener.stop] ended it. */
    public fun listen(): CompletableFuture<Void?> =
        calls.async {
            listener.listen()
            null
        }

    /** [ListListener.getMessage]: completes with the handler's result, or null when the list is empty. */
    public fun getMessage(): CompletableFuture<String?> = calls.async { listener.getMessage() }

    /** [ListListener.recover]: completes with how many messages of the processing list were handled. */
    public fun recover(): CompletableFuture<Int> = calls.async { listener.recover() }
}
