package picket.lock.internal

import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.delay
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Durability
import picket.lock.FencingEpochUnknownException
import picket.lock.LockLease
import picket.lock.LockOptions
import picket.lock.internal.ScriptCalls.Mode
import java.time.Duration
import java.util.UUID

/**
 * Acquisition, attempts and waiting: one attempt that does not queue up, then (if the caller waits) a place in the
 * lock's queue on the server, renewed on every poll, and sleeps that a hand-over or a release ([WakeUps]) cuts
 * short. A waiter that gives up leaves the queue; one cancelled or failed also releases what it was handed meanwhile.
 */
internal class Acquirer(
    private val calls: ScriptCalls,
    private val wakeUps: WakeUps,
    private val options: LockOptions,
) {
    /** Acquires [name] for [holdFor], waiting at most [waitFor] (0: exactly one attempt); null if it stayed held. */
    suspend fun acquire(
        name: String,
        holdFor: Duration,
        waitFor: Duration,
    ): LockLease? {
        val deadline = System.nanoTime() + waitFor.toNanos()
        val owner = UUID.randomUUID().toString()
        var waiter: Waiter? = null
        try {
            // First one attempt that does not queue up: an uncontended lock costs one script and no subscription.
            val first = firstAttempt(name, owner, holdFor, waitFor.isZero)
            if (first != null || waitFor.isZero) return first
            waiter = Waiter(name, owner, holdFor, waitFor)
            // Subscribed before queueing up: a hand-over to this waiter is published after it can be heard.
            wakeUps.start(waiter)
            // The deadline passed: leave the queue; a hand-over that came first is a lease taken while waiting.
            return waitIn(waiter, deadline) ?: calls.attempt(name, owner, holdFor, Mode.LEAVE).lease
        } catch (
            // Cancelled or failed (a durable acquisition not confirmed, a lost connection): leave the queue and
            // release what was granted meanwhile, so that it goes on to the next waiter; then rethrow.
            @Suppress("TooGenericExceptionCaught") e: Throwable,
        ) {
            withContext(NonCancellable) {
                withTimeoutOrNull(LEAVE_TIMEOUT_MS) {
                    runCatching { calls.attempt(name, owner, holdFor, Mode.LEAVE).lease?.let { calls.release(it) } }
                }
            }
            throw e
        } finally {
            waiter?.let { wakeUps.stop(it) }
        }
    }

    /**
     * The attempt that does not queue up. While the master's config-epoch is unknown (just switched to) it asks
     * again for up to a second when it is the only attempt ([only]), then fails; otherwise the waiting goes on.
     */
    private suspend fun firstAttempt(
        name: String,
        owner: String,
        holdFor: Duration,
        only: Boolean,
    ): LockLease? {
        repeat(EPOCH_ATTEMPTS) {
            val outcome = calls.attempt(name, owner, holdFor, Mode.TRY)
            if (!outcome.epochUnknown) return outcome.lease
            if (!only) return null
            delay(EPOCH_WAIT_MS)
        }
        throw FencingEpochUnknownException(name, Duration.ofMillis(EPOCH_ATTEMPTS * EPOCH_WAIT_MS))
    }

    /**
     * [waiter]'s turns until it holds its lock or [deadline] (nanoTime) passes: each renews its place in the
     * queue (and takes a free lock at the queue's head), then sleeps until a hand-over or a release wakes it, or
     * its poll is due.
     */
    private suspend fun waitIn(
        waiter: Waiter,
        deadline: Long,
    ): LockLease? {
        val poll = options.pollInterval.toMillis()
        // A hand-over whose message was missed (the listener reconnecting) is found before it expires unused.
        val handOverCheck = (waiter.holdFor.toMillis() / 2).coerceAtLeast(1)
        val durable = options.acquireDurability != Durability.None
        while (true) {
            // A durable waiter confirms a hand-over with its own attempt: the grant is written, then WAITed for.
            if (!durable) waiter.granted.get()?.let { return it }
            val outcome = calls.attempt(waiter.name, waiter.owner, waiter.holdFor, Mode.QUEUE)
            outcome.lease?.let { return it }
            val remaining = (deadline - System.nanoTime()) / NANOS_PER_MS
            if (remaining <= 0) {
                if (outcome.epochUnknown) {
                    throw FencingEpochUnknownException(waiter.name, waiter.waitFor)
                }
                return null
            }
            // A lease ending before the poll (its holder gone) is taken when it ends; -1 (no expiry: not a
            // Picket lease) and -2 (none) leave the poll interval.
            val holderTtl = outcome.holderTtl
            val sleep =
                when {
                    outcome.epochUnknown -> EPOCH_WAIT_MS
                    else -> minOf(poll, handOverCheck, if (holderTtl > 0) holderTtl else poll)
                }
            withTimeoutOrNull(minOf(sleep, remaining).coerceAtLeast(1)) { waiter.wake.receive() }
        }
    }

    private companion object {
        const val LEAVE_TIMEOUT_MS = 1_000L
        const val NANOS_PER_MS = 1_000_000L
        const val EPOCH_ATTEMPTS = 50
        const val EPOCH_WAIT_MS = 20L
    }
}
