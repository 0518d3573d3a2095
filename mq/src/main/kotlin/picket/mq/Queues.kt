@file:JvmName("MessageQueuesKt")

package picket.mq

import picket.core.ConnSpec
import picket.core.Picket

// Kotlin's shorthands over an instance; Java uses MessageQueues.strings(picket, spec) or the constructor, the facade's
// blocking() and async() views, and MessageQueues.worker with a java.util.function.Function.

/** String message queues on [spec]'s master. */
@JvmSynthetic
public fun Picket.queues(spec: ConnSpec): MessageQueues<String> = MessageQueues.strings(this, spec)

/** Message queues on [spec]'s master with [codec]. */
@JvmSynthetic
public fun <T> Picket.queues(
    spec: ConnSpec,
    codec: MessageCodec<T>,
): MessageQueues<T> = MessageQueues(this, spec, codec)

/** Queues [message] on [queue] of [spec]'s master: [MessageQueues.enqueue] with strings. */
@JvmSynthetic
public suspend fun Picket.enqueue(
    spec: ConnSpec,
    queue: String,
    message: String,
    options: EnqueueOptions = EnqueueOptions.DEFAULT,
): EnqueueResult = queues(spec).enqueue(queue, message, options)

/** A started worker of [queue] on [spec]'s master: [MessageQueues.worker] with strings. */
@JvmSynthetic
public fun Picket.worker(
    spec: ConnSpec,
    queue: String,
    options: WorkerOptions = WorkerOptions(),
    handler: suspend (Delivery<String>) -> HandlerResult,
): Worker<String> = queues(spec).worker(queue, options, handler = handler)
