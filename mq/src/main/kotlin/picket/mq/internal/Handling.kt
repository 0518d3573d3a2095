package picket.mq.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.job
import picket.core.internal.Backoff
import picket.mq.Delivery
import picket.mq.HandlerResult
import picket.mq.InvalidHandlerResultException
import picket.mq.LeaseLostException
import picket.mq.MessageQueues
import picket.mq.MetricsRecorder
import picket.mq.QueueEvent
import picket.mq.WorkerOptions
import java.time.Duration

/** How one handling ended, before it is recorded on the master. */
private sealed class Outcome {
    class Returned(
        val result: HandlerResult?,
    ) : Outcome()

    class Threw(
        val error: Exception,
    ) : Outcome()

    /** The lease's deadline passed first: the handler was cancelled. */
    data object Expired : Outcome()
}

/** The local end of a lease: its place in the [LeaseReaper], set before the handler starts, moved by extensions. */
private class LocalLease {
    @Volatile
    var entry: LeaseReaper.Entry? = null
}

/** Runs a worker's handler on one taken message and records the result with the lease's token. */
internal class Handling<T>(
    private val queues: MessageQueues<T>,
    private val keys: QueueKeys,
    private val options: WorkerOptions,
    private val handler: suspend (Delivery<T>) -> HandlerResult?,
    private val settler: Settler,
    private val reaper: LeaseReaper,
) {
    val metrics = MetricsRecorder()
    private val queue = keys.queue

    /**
     * Handles [taken], which came in [reply]; [sentAt] is when the take was sent (the lease is counted from then, so
     * the local deadline is never later than the master's), [receivedAt] when its reply arrived.
     */
    suspend fun handle(
        taken: Taken,
        reply: TakeReply,
        sentAt: Long,
        receivedAt: Long,
    ) {
        val token = reply.token
        val deadlineNanos = sentAt + Duration.ofMillis(taken.deadline - reply.now).toNanos()
        val lease = LocalLease()
        val started = System.nanoTime()
        metrics.timeToHandler(
            Duration.ofMillis((reply.now - taken.due).coerceAtLeast(0)).toNanos() + started - receivedAt,
        )
        val outcome = guarded(deadlineNanos, lease) { handler(delivery(taken, reply, token, lease)) }
        val handlingNanos = System.nanoTime() - started
        metrics.handlingTime(handlingNanos)
        settle(taken, token, outcome, Duration.ofMillis((reply.now - taken.due).coerceAtLeast(0)), handlingNanos)
    }

    private fun delivery(
        taken: Taken,
        reply: TakeReply,
        token: String,
        lease: LocalLease,
    ): Delivery<T> =
        Delivery.create(
            queue,
            taken.id,
            queues.codec.decode(taken.payload),
            taken.attempt,
            Duration.ofMillis((reply.now - taken.created).coerceAtLeast(0)),
            QueueOps.instant(taken.deadline),
            reply.readyLeft,
            taken.lastError,
            queues.picket,
        ) { delivery, duration ->
            val sent = System.nanoTime()
            val (deadline, now) =
                queues.ops.extend(keys, taken.id, token, duration.toMillis())
                    ?: throw LeaseLostException(queue, taken.id)
            // The server's new deadline, even when earlier than the old one (a shorter extension): a local deadline
            // later than the master's would let a handler run on after another worker took the message over.
            reaper.move(lease.entry!!, sent + Duration.ofMillis(deadline - now).toNanos())
            QueueOps.instant(deadline).also { delivery.leaseDeadline = it }
        }

    /**
     * Runs [work] until it ends or the lease's deadline passes: then the [reaper] cancels this handling's coroutine.
     * The handler starts only once its lease is tracked, so an extension it makes always finds its entry. After an
     * expiry nothing suspends any more (the coroutine is cancelled): an expired handling records nothing.
     */
    private suspend fun guarded(
        deadlineNanos: Long,
        lease: LocalLease,
        work: suspend () -> HandlerResult?,
    ): Outcome {
        // Taken too late to run at all (the reply came after the lease's end).
        if (deadlineNanos - System.nanoTime() <= 0) return Outcome.Expired
        val entry = reaper.track(deadlineNanos, currentCoroutineContext().job)
        lease.entry = entry
        return try {
            val result = work()
            // The deadline passed as the handler returned: the message is the lease's again, not this result's.
            if (entry.expired) Outcome.Expired else Outcome.Returned(result)
        } catch (e: CancellationException) {
            when {
                entry.expired -> Outcome.Expired

                // The worker itself stopping is not an expiry.
                !currentCoroutineContext().isActive -> throw e

                // The handler's own (its withTimeout): its error, retried by the policy.
                else -> Outcome.Threw(e)
            }
        } catch (
            // Whatever the handler (or the codec) threw is the delivery's error, retried by the policy.
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            Outcome.Threw(e)
        } finally {
            reaper.untrack(entry)
        }
    }

    private suspend fun settle(
        taken: Taken,
        token: String,
        outcome: Outcome,
        waited: Duration,
        handlingNanos: Long,
    ) {
        val result: HandlerResult =
            when (outcome) {
                Outcome.Expired -> {
                    metrics.leasesLost.incrementAndGet()
                    queues.bus.emit(QueueEvent.LeaseLost(queue, taken.id, taken.attempt, expired = true))
                    return
                }

                is Outcome.Threw -> {
                    metrics.exceptions.incrementAndGet()
                    HandlerResult.Retry(null, describe(outcome.error))
                }

                is Outcome.Returned -> {
                    outcome.result ?: run {
                        metrics.unknownResults.incrementAndGet()
                        val error = InvalidHandlerResultException(queue, taken.id, "null")
                        HandlerResult.Retry(null, describe(error))
                    }
                }
            }
        queues.bus.emit(
            QueueEvent.Handled(queue, taken.id, taken.attempt, result, waited, Duration.ofNanos(handlingNanos)),
        )
        when (result) {
            is HandlerResult.Success -> {
                succeed(taken, token, result)
            }

            is HandlerResult.Retry -> {
                fail(
                    taken,
                    token,
                    result.backoff ?: options.retry.backoff(taken.attempt),
                    result.reason,
                    false,
                )
            }

            is HandlerResult.Failure -> {
                fail(taken, token, Duration.ZERO, result.reason, true)
            }
        }
    }

    private suspend fun succeed(
        taken: Taken,
        token: String,
        result: HandlerResult.Success,
    ) {
        val keep = result.keepIdFor?.toMillis() ?: -1L
        val reply =
            recording { settler.settle(Settlement(Settlement.Kind.ACK, taken.id, token, keep, "")) } ?: return
        if (reply == 0L) lost(taken) else metrics.succeeded.incrementAndGet()
    }

    private suspend fun fail(
        taken: Taken,
        token: String,
        backoff: Duration,
        error: String,
        deadNow: Boolean,
    ) {
        val reply =
            recording {
                val kind = if (deadNow) Settlement.Kind.DEAD else Settlement.Kind.RETRY
                settler.settle(Settlement(kind, taken.id, token, backoff.toMillis(), error))
            } ?: return
        when (reply) {
            1L -> {
                metrics.retried.incrementAndGet()
                queues.bus.emit(QueueEvent.Retried(queue, taken.id, taken.attempt, backoff, error))
            }

            2L -> {
                metrics.deadLettered.incrementAndGet()
                queues.bus.emit(QueueEvent.DeadLettered(queue, taken.id, taken.attempt, error))
            }

            else -> {
                lost(taken)
            }
        }
    }

    private fun lost(taken: Taken) {
        metrics.leasesLost.incrementAndGet()
        queues.bus.emit(QueueEvent.LeaseLost(queue, taken.id, taken.attempt, expired = false))
    }

    /**
     * Runs [record] (an acknowledgement or retry, sent in a batch by the [Settler]), again with backoff when Redis
     * fails, for a few attempts: after that the lease decides (the message is delivered again). Null if it never
     * succeeded.
     */
    private suspend fun <R> recording(record: suspend () -> R): R? {
        val backoff = Backoff(FIRST_RETRY_MS, MAX_RETRY_MS)
        repeat(RECORD_ATTEMPTS) { attempt ->
            try {
                return record()
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                val last = attempt == RECORD_ATTEMPTS - 1
                queues.bus.emit(
                    QueueEvent.WorkerError(
                        queue,
                        e,
                        if (last) Duration.ZERO else Duration.ofMillis(backoff.upcomingMs),
                    ),
                )
                if (last) return null
                backoff.pause()
            }
        }
        return null
    }

    private companion object {
        const val FIRST_RETRY_MS = 100L
        const val MAX_RETRY_MS = 2_000L
        const val RECORD_ATTEMPTS = 8

        fun describe(e: Exception): String = "${e::class.qualifiedName}: ${e.message}"
    }
}
