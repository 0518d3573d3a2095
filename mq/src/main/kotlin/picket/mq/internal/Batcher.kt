package picket.mq.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

/**
 * Sends items to Redis in batches without a timer: a call made while none is in flight goes at once, on the caller's
 * coroutine, alone; calls made while one is in flight wait and go together in the next call (at most [maxBatch] per
 * call), sent from a coroutine of [scope]. So a lone call costs one round trip, as before, and under load the script
 * calls (and the server's and client's per-call costs) are shared by what arrived during one round trip.
 *
 * [call] gets the items in arrival order and returns one result per item, in the same order; when it throws, every
 * item of that call gets the error (nothing tells which of them the server ran). A caller cancelled before its item
 * was sent is left out; one cancelled after it was sent does not wait for the result.
 */
internal class Batcher<I, R>(
    private val scope: CoroutineScope,
    private val maxBatch: Int,
    private val call: suspend (List<I>) -> List<R>,
) {
    private class Pending<I, R>(
        val item: I,
    ) {
        val result = CompletableDeferred<R>()
    }

    private val lock = Any()
    private val waiting = ArrayDeque<Pending<I, R>>()

    /** A call is in flight (the caller's own or the sender's); guarded by [lock]. */
    private var busy = false

    /** Sends [item] (now, or with the next batch) and returns its result; throws what its call threw. */
    suspend fun submit(item: I): R {
        val pending = Pending<I, R>(item)
        val direct =
            synchronized(lock) {
                if (busy) {
                    waiting.addLast(pending)
                    false
                } else {
                    busy = true
                    true
                }
            }
        if (direct) {
            try {
                return call(listOf(item)).single()
            } finally {
                handOff()
            }
        }
        try {
            return pending.result.await()
        } catch (e: CancellationException) {
            // Left out if not sent yet; if sent, its result is dropped.
            pending.result.cancel(e)
            throw e
        }
    }

    /** After a call: the items that arrived meanwhile go with a sender, or nothing is in flight any more. */
    private fun handOff() {
        val more =
            synchronized(lock) {
                if (waiting.isEmpty()) busy = false
                busy
            }
        if (more) {
            scope.launch { sendWaiting() }.invokeOnCompletion { cause -> if (cause != null) failWaiting(cause) }
        }
    }

    private suspend fun sendWaiting() {
        while (true) {
            val batch = nextBatch()
            if (batch.isEmpty()) return
            try {
                val results = call(batch.map { it.item })
                batch.forEachIndexed { i, pending -> pending.result.complete(results[i]) }
            } catch (e: CancellationException) {
                batch.forEach { it.result.cancel(e) }
                throw e
            } catch (
                // The call failed (Redis down, a failover, a script error): each caller decides what to do.
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                batch.forEach { it.result.completeExceptionally(e) }
            }
        }
    }

    /** Up to [maxBatch] waiting items whose callers still wait; empty (and nothing in flight) when none is left. */
    private fun nextBatch(): List<Pending<I, R>> =
        synchronized(lock) {
            val batch = ArrayList<Pending<I, R>>(minOf(waiting.size, maxBatch))
            while (batch.size < maxBatch) {
                val pending = waiting.removeFirstOrNull() ?: break
                if (!pending.result.isCancelled) batch += pending
            }
            if (batch.isEmpty()) busy = false
            batch
        }

    /** The sender could not run or ended abnormally ([scope] cancelled): what still waits fails with [cause]. */
    private fun failWaiting(cause: Throwable) {
        val left =
            synchronized(lock) {
                busy = false
                waiting.toList().also { waiting.clear() }
            }
        left.forEach { it.result.completeExceptionally(cause) }
    }
}
