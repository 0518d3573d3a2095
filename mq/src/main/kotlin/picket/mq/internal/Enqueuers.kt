package picket.mq.internal

import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import picket.core.ConnSpec
import picket.core.Durability
import java.util.concurrent.ConcurrentHashMap

/**
 * The enqueues of one [picket.mq.MessageQueues]: those that arrive while one is in flight are sent together
 * ([Batcher]), one batcher per queue and durability (a batch is confirmed by one `WAIT`). Sends from a scope of its
 * own, never cancelled.
 */
internal class Enqueuers(
    private val ops: QueueOps,
    private val spec: ConnSpec,
) {
    private val sending = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-mq-enqueue"))
    private val batchers = ConcurrentHashMap<Pair<String, Durability?>, Batcher<NewMessage, EnqueueReply>>()

    /** Enqueues [message] on [keys]' queue with the next batch of [durability] and returns the script's reply. */
    suspend fun submit(
        keys: QueueKeys,
        durability: Durability?,
        message: NewMessage,
    ): EnqueueReply = batcher(keys, durability).submit(message)

    /** The batcher of [keys]' queue for one durability. */
    private fun batcher(
        keys: QueueKeys,
        durability: Durability?,
    ): Batcher<NewMessage, EnqueueReply> =
        batchers.computeIfAbsent(keys.queue to durability) {
            val on = durability?.let { spec.withDurability(it) } ?: spec
            Batcher(sending, MAX_ENQUEUE_BATCH) { batch -> ops.enqueue(keys, batch, on) }
        }

    private companion object {
        /** Keeps one script short: about 7 commands per new message, so at most ~900 per call. */
        const val MAX_ENQUEUE_BATCH = 128
    }
}
