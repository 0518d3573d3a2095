package picket.mq.internal

import kotlinx.coroutines.CoroutineScope

/**
 * Records a worker's handlings on the master in batches ([Batcher]): one [Scripts.SETTLE] call carries whatever
 * finished while the previous call was in flight, at most [MAX_BATCH]; a lone result is sent at once. Each handling
 * is still checked against its own lease and gets its own outcome; a failed call fails every handling in it (each
 * caller retries on its own). Sends from [scope] when batching; cancel it once no handling waits.
 */
internal class Settler(
    ops: QueueOps,
    keys: QueueKeys,
    keepChosenMs: Long,
    maxAttempts: Int,
    scope: CoroutineScope,
) {
    private val batcher =
        Batcher<Settlement, Long>(scope, MAX_BATCH) { batch -> ops.settle(keys, batch, keepChosenMs, maxAttempts) }

    /**
     * Records [settlement] with the next call and returns its outcome (see [QueueOps.settle]); throws what that call
     * threw.
     */
    suspend fun settle(settlement: Settlement): Long = batcher.submit(settlement)

    private companion object {
        /** Keeps one script short: about 8 commands per handling, so at most ~1,000 per call. */
        const val MAX_BATCH = 128
    }
}
