package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls

/**
 * The blocking form of [MessageQueues], for Java and other callers without coroutines: [MessageQueues.blocking]. Each
 * method is the Kotlin member of the same name, run on the calling thread until it returns.
 *
 * ```java
 * EnqueueResult result = queues.blocking().enqueue("mail", "hello");
 * QueueStatus status = queues.blocking().status("mail");
 * ```
 *
 * ## Threads
 * The whole call runs on the caller's thread, and no pool limits how many run at once. Waits are interruptible: an
 * interrupt cancels the call, which throws `PicketInterruptedException` with the thread's interrupt flag set again (an
 * enqueue interrupted after it was sent may have been queued all the same). See core's `BlockingPicket`.
 */
@OptIn(InternalPicketApi::class)
public class BlockingMessageQueues<T> internal constructor(
    private val queues: MessageQueues<T>,
) {
    private val calls = queues.picket.javaCalls()

    /**
     * [MessageQueues.enqueue]: queues [message] on [queue] and returns its id and what was done.
     *
     * @throws picket.core.InvalidSpecException if [queue] is blank or holds `{` or `}`.
     * @throws picket.core.DurabilityException if durable and the replicas did not confirm in time.
     */
    @JvmOverloads
    public fun enqueue(
        queue: String,
        message: T,
        options: EnqueueOptions = EnqueueOptions.DEFAULT,
    ): EnqueueResult = calls.blocking("enqueue on queue '$queue'") { queues.enqueue(queue, message, options) }

    /** [MessageQueues.status]: counts of [queue] by state, totals, and the age of its oldest ready message. */
    public fun status(queue: String): QueueStatus = calls.blocking("status of queue '$queue'") { queues.status(queue) }

    /** [MessageQueues.messageStatus]: message [id] of [queue], or null if the queue has no message with that id. */
    public fun messageStatus(
        queue: String,
        id: String,
    ): MessageInfo<T>? = calls.blocking("messageStatus on queue '$queue'") { queues.messageStatus(queue, id) }

    /** [MessageQueues.deadLetters]: the dead letters of [queue], newest first, [count] from index [start]. */
    @JvmOverloads
    public fun deadLetters(
        queue: String,
        start: Long = 0,
        count: Int = MessageQueues.DEFAULT_DEAD_LETTER_PAGE,
    ): List<DeadLetter<T>> = calls.blocking("deadLetters of queue '$queue'") { queues.deadLetters(queue, start, count) }

    /** [MessageQueues.requeueDead]: moves the dead letters [ids] of [queue] back to the ready list; how many. */
    public fun requeueDead(
        queue: String,
        ids: Collection<String>,
    ): Long = calls.blocking("requeueDead on queue '$queue'") { queues.requeueDead(queue, ids) }

    /** [MessageQueues.requeueAllDead]: moves every dead letter of [queue] back, oldest first; returns how many. */
    public fun requeueAllDead(queue: String): Long =
        calls.blocking("requeueAllDead on queue '$queue'") { queues.requeueAllDead(queue) }

    /** [MessageQueues.queueNames]: the queues under the instance's prefix. */
    public fun queueNames(): Set<String> = calls.blocking("queueNames") { queues.queueNames() }

    /** [MessageQueues.clearQueueDeletingAllMessages]: **deletes [queue] and every message in it**. */
    public fun clearQueueDeletingAllMessages(queue: String): ClearedQueue =
        calls.blocking("clearQueueDeletingAllMessages of queue '$queue'") {
            queues.clearQueueDeletingAllMessages(queue)
        }
}
