package picket.mq

import picket.core.InternalPicketApi
import picket.core.internal.javaCalls
import java.util.concurrent.CompletableFuture

/**
 * The future form of [MessageQueues], for Java callers that compose futures: [MessageQueues.async]. Each method is
 * the Kotlin member of the same name, started at once; its future completes with the result or the same typed error.
 * Cancelling a future cancels what it waits for.
 *
 * ```java
 * queues.async().enqueue("mail", "hello").thenAccept(result -> log.info("queued {}", result.getId()));
 * ```
 *
 * Callbacks run on the thread that completes the future (a Lettuce or Picket thread): hand long work to an executor
 * of your own, and never wait for another Picket call there.
 */
@OptIn(InternalPicketApi::class)
public class AsyncMessageQueues<T> internal constructor(
    private val queues: MessageQueues<T>,
) {
    private val calls = queues.picket.javaCalls()

    /**
     * [MessageQueues.enqueue]: queues [message] on [queue]; completes with its id and what was done.
     *
     * @throws picket.core.InvalidSpecException (through the future) if [queue] is blank or holds `{` or `}`.
     */
    @JvmOverloads
    public fun enqueue(
        queue: String,
        message: T,
        options: EnqueueOptions = EnqueueOptions.DEFAULT,
    ): CompletableFuture<EnqueueResult> = calls.async { queues.enqueue(queue, message, options) }

    /** [MessageQueues.status]: counts of [queue] by state, totals, and the age of its oldest ready message. */
    public fun status(queue: String): CompletableFuture<QueueStatus> = calls.async { queues.status(queue) }

    /** [MessageQueues.messageStatus]: message [id] of [queue], or null if the queue has no message with that id. */
    public fun messageStatus(
        queue: String,
        id: String,
    ): CompletableFuture<MessageInfo<T>?> = calls.async { queues.messageStatus(queue, id) }

    /** [MessageQueues.deadLetters]: the dead letters of [queue], newest first, [count] from index [start]. */
    @JvmOverloads
    public fun deadLetters(
        queue: String,
        start: Long = 0,
        count: Int = MessageQueues.DEFAULT_DEAD_LETTER_PAGE,
    ): CompletableFuture<List<DeadLetter<T>>> = calls.async { queues.deadLetters(queue, start, count) }

    /** [MessageQueues.requeueDead]: moves the dead letters [ids] of [queue] back to the ready list; how many. */
    public fun requeueDead(
        queue: String,
        ids: Collection<String>,
    ): CompletableFuture<Long> = calls.async { queues.requeueDead(queue, ids) }

    /** [MessageQueues.requeueAllDead]: moves every dead letter of [queue] back, oldest first; how many. */
    public fun requeueAllDead(queue: String): CompletableFuture<Long> = calls.async { queues.requeueAllDead(queue) }

    /** [MessageQueues.queueNames]: the queues under the instance's prefix. */
    public fun queueNames(): CompletableFuture<Set<String>> = calls.async { queues.queueNames() }

    /** [MessageQueues.clearQueueDeletingAllMessages]: **deletes [queue] and every message in it**. */
    public fun clearQueueDeletingAllMessages(queue: String): CompletableFuture<ClearedQueue> =
        calls.async { queues.clearQueueDeletingAllMessages(queue) }
}
