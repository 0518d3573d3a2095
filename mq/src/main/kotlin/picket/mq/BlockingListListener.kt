package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls

/**
 * The blocking form of [ListListener], for Java: [ListListener.blocking]. Each method is the Kotlin member of the same
 * name, run on the calling thread until it returns. Waits are interruptible: an interrupt cancels the call, which
 * throws `PicketInterruptedException` with the thread's interrupt flag set again (a message being handled then stays
 * in the processing list, for the next recovery).
 *
 * ```java
 * String result = listener.blocking().getMessage();   // null when the list is empty
 * listener.blocking().listen();                       // until listener.stop(), from another thread
 * ```
 */
@OptIn(InternalPicketApi::class)
public class BlockingListListener internal constructor(
    private val listener: ListListener,
) {
    private val calls = listener.picket.javaCalls()

    /**
     * [ListListener.listen]: handles messages until [ListListener.stop] (or an interrupt).
     *
     * @throws IllegalStateException if the listener is already listening.
     */
    public fun listen(): Unit = calls.blocking("listen on list '${listener.list}'") { listener.listen() }

    /**
     * [ListListener.getMessage]: one message, handled, without waiting for one: the handler's result, or null when
     * the list is empty.
     *
     * @throws MessageDeadLetteredException if the handler failed on it every attempt.
     */
    public fun getMessage(): String? = calls.blocking("getMessage on list '${listener.list}'") { listener.getMessage() }

    /** [ListListener.recover]: handles every message in the processing list now, oldest first; returns how many. */
    public fun recover(): Int = calls.blocking("recover of list '${listener.list}'") { listener.recover() }
}
