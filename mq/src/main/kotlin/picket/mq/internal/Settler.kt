package picket.mq.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch

/**
 * Records a worker's handlings on the master in batches: one [Scripts.SETTLE] call carries whatever finished while
 * the previous call was in flight. There is no timer: a lone result is sent at once, and under load a batch grows to
 * what the handlers produce in one round trip (at most [MAX_BATCH]). Each handling is still checked against its own
 * lease and gets its own outcome; a failed call fails every handling in it (each caller retries on its own).
 */
internal class Settler(
    private val ops: QueueOps,
    private val keys: QueueKeys,
    private val keepChosenMs: Long,
    private val maxAttempts: Int,
) {
    private class Pending(
        val settlement: Settlement,
        val outcome: CompletableDeferred<Long> = CompletableDeferred(),
    )

    private val pending = Channel<Pending>(Channel.UNLIMITED)

    /** Starts sending, in [scope]; cancel the returned job once no handling waits. */
    fun start(scope: CoroutineScope): Job = scope.launch { send() }

    /**
     * Records [settlement] with the next call and returns its outcome (see [QueueOps.settle]); throws what that call
     * threw.
     */
    suspend fun settle(settlement: Settlement): Long {
        val request = Pending(settlement)
        pending.send(request)
        return request.outcome.await()
    }

    private suspend fun send() {
        val batch = ArrayList<Pending>()
        while (true) {
            batch += pending.receive()
            while (batch.size < MAX_BATCH) batch += pending.tryReceive().getOrNull() ?: break
            try {
                val outcomes = ops.settle(keys, batch.map { it.settlement }, keepChosenMs, maxAttempts)
                batch.forEachIndexed { i, request -> request.outcome.complete(outcomes[i]) }
            } catch (e: CancellationException) {
                batch.forEach { it.outcome.cancel(e) }
                throw e
            } catch (
                // The call failed (Redis down, a failover): each handling's caller decides whether to try again.
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                batch.forEach { it.outcome.completeExceptionally(e) }
            }
            batch.clear()
        }
    }

    private companion object {
        /** Keeps one script short: about 8 commands per handling, so at most ~1,000 per call. */
        const val MAX_BATCH = 128
    }
}
