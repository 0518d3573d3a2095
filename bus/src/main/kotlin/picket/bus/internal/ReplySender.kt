@file:Suppress("SpreadOperator") // Lettuce takes script arguments as varargs; a handful per call

package picket.bus.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import picket.core.internal.Backoff
import picket.core.internal.runScript

private val log = KotlinLogging.logger {}

/** Past a caller's deadline, a reply is still retried this long (clock skew between the master and the caller). */
private const val REPLY_SLACK_MS = 2_000L

/** A call ended: its reply (and the result to cache) to send; [attempts] sends have failed so far. */
internal class Finished(
    val request: Request,
    val reply: String,
    val cache: Cached?,
    val attempts: Int = 0,
) {
    /** Past this (epoch ms) the caller has given up: its deadline, plus slack for clock skew. */
    val giveUpAt: Long get() = request.deadline + REPLY_SLACK_MS

    /** This reply after one more failed send, or null once its caller has given up. */
    fun retried(): Finished? =
        if (System.currentTimeMillis() < giveUpAt) {
            Finished(request, reply, cache, attempts + 1)
        } else {
            log.warn { "a bus reply could not be sent after ${attempts + 1} attempts; its caller times out" }
            null
        }
}

/**
 * Sends a reply alone, with the reply script (out of `proc`, the reply pushed, the result cached), retried with
 * [Backoff] until the caller's deadline plus slack: for `serveOnce`, a call cancelled by `stop`, debug mode and a
 * worker stopping with a reply not yet sent. A serving worker's replies go with its next step instead ([Worker]).
 */
internal class ReplySender(
    private val bus: RealBus,
) {
    /** Ends a call; a duplicate reply is harmless (the caller drops replies it no longer waits for). */
    suspend fun send(finished: Finished) {
        val request = finished.request
        val cache = finished.cache
        val retention = bus.retentionMs()
        val proc = bus.keys.proc(bus.instance)
        val keys = listOfNotNull(proc, request.replyTo, cache?.key, cache?.set).toTypedArray()
        val args =
            if (cache == null) {
                arrayOf(request.element, finished.reply, retention)
            } else {
                arrayOf(request.element, finished.reply, retention, cache.json, cache.ttlMs.toString())
            }
        // Retried until the caller's deadline (plus slack for clock skew): past it the caller has given up.
        val giveUpAt = maxOf(finished.giveUpAt, System.currentTimeMillis())
        val backoff = Backoff(MIN_BACKOFF_MS, MAX_BACKOFF_MS)
        var attempt = finished.attempts
        while (true) {
            attempt++
            try {
                bus.picket.withConn(
                    bus.spec,
                ) { runScript<Long>(Scripts.REPLY, ScriptOutputType.INTEGER, keys, *args) }
                return
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                if (bus.closedCause(e) || System.currentTimeMillis() + backoff.upcomingMs > giveUpAt) break
                log.debug { "bus '${bus.name}': reply failed (${e.message}), attempt $attempt" }
                backoff.pause()
            }
        }
        log.warn { "bus '${bus.name}': a reply could not be sent after $attempt attempts; its caller times out" }
    }

    private companion object {
        const val MIN_BACKOFF_MS = 50L
        const val MAX_BACKOFF_MS = 1_000L
    }
}
