@file:JvmName("MessageQueuesKt")

package picket.mq

import picket.core.ConnSpec
import picket.core.Picket

/** String message queues on [spec]'s master. */
public fun Picket.queues(spec: ConnSpec): MessageQueues<String> = MessageQueues(this, spec, MessageCodec.STRING)

/** Message queues on [spec]'s master with [codec]. */
public fun <T> Picket.queues(
    spec: ConnSpec,
    codec: MessageCodec<T>,
): MessageQueues<T> = MessageQueues(this, spec, codec)

/** Queues [message] on [queue] of [spec]'s master: [MessageQueues.enqueue] with strings. */
public suspend fun Picket.enqueue(
    spec: ConnSpec,
    queue: String,
    message: String,
    options: EnqueueOptions = EnqueueOptions.DEFAULT,
): EnqueueResult = queues(spec).enqueue(queue, message, options)

/** A started worker of [queue] on [spec]'s master: [MessageQueues.worker] with strings. */
public fun Picket.worker(
    spec: ConnSpec,
    queue: String,
    options: WorkerOptions = WorkerOptions(),
    handler: suspend (Delivery<String>) -> HandlerResult,
): Worker<String> = queues(spec).worker(queue, options, handler = handler)
