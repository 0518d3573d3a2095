package picket.mq.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import io.lettuce.core.codec.ByteArrayCodec
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Commands
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.internal.Backoff
import picket.core.internal.runScriptIn
import picket.mq.ListEvent
import picket.mq.ListListenerOptions
import picket.mq.MessageDeadLetteredException
import java.time.Duration
import kotlin.text.Charsets.UTF_8

/** The list listener's own logger, so that its lines read as before whichever file writes them. */
private val log = KotlinLogging.logger("picket.mq.ListListener")

/**
 * How a [picket.mq.ListListener] handles the messages in its processing list: runs the handler (again on failure),
 * counts attempts on the master, dead-letters, removes what was handled, and recovers what a listener left behind.
 * While Redis is down it waits with capped backoff, unless [stopped].
 */
@OptIn(InternalPicketApi::class)
internal class ListHandling(
    private val picket: Picket,
    private val spec: ConnSpec,
    private val names: ListNames,
    private val options: ListListenerOptions,
    private val handler: suspend (String) -> String?,
    private val stopped: Deferred<Unit>,
    private val emit: (ListEvent) -> Unit,
) {
    /**
     * Handles every message in the processing list now, oldest first; returns how many (see
     * [picket.mq.ListListener.recover]).
     */
    suspend fun recover(): Int {
        val left = bytes { lrange(names.processingKey, 0, -1) }.orEmpty().asReversed()
        left.forEach { message ->
            // Its last run never finished (a crash, a stop, a lost connection): it counts as an attempt, so that a
            // message that kills its listener every time is dead-lettered after maxAttempts restarts.
            val begun = bytes { hincrby(names.attemptsKey, message, 1) } ?: 1L
            try {
                if (begun >= options.maxAttempts) {
                    deadLetter(message, begun.toInt(), interrupted(begun))
                } else {
                    process(message, begun.toInt() + 1)
                }
            } catch (e: MessageDeadLetteredException) {
                log.debug { e.message }
            }
        }
        if (left.isNotEmpty()) emit(ListEvent.Recovered(left.size))
        return left.size
    }

    /**
     * Runs the handler on [message] (again on failure), from attempt [first], then removes it from the processing
     * list (and its attempt count, if it has one).
     *
     * @throws MessageDeadLetteredException if the handler failed on it every attempt.
     */
    suspend fun process(
        message: ByteArray,
        first: Int = 1,
    ): String? {
        val text = message.toString(UTF_8)
        var attempt = first
        while (true) {
            val result =
                try {
                    handler(text)
                } catch (
                    // The message is kept: retried, then dead-lettered (TwiceRedis logs and drops it); a
                    // CancellationException too (the handler's own withTimeout), unless the listener was cancelled.
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    @Suppress("InstanceOfCheckForException")
                    if (e is CancellationException && !currentCoroutineContext().isActive) throw e
                    if (attempt >= options.maxAttempts) deadLetter(message, attempt, e)
                    val wait = Backoff.after(attempt, options.retryBackoff, FOREVER, SHIFT_CAP)
                    emit(ListEvent.Retrying(text, attempt, e, wait))
                    // Kept on the master, so that a listener started after a crash goes on counting.
                    settle { hset(names.attemptsKey, message, attempt.toString().toByteArray(UTF_8)) }
                    delay(wait.toMillis())
                    attempt++
                    continue
                }
            if (attempt == 1) {
                settle { lrem(names.processingKey, -1, message) }
            } else {
                settle {
                    runScriptIn<ByteArray, ByteArray, Long>(
                        Scripts.LIST_DONE,
                        ScriptOutputType.INTEGER,
                        arrayOf(names.processingKey, names.attemptsKey),
                        message,
                    )
                }
            }
            return result
        }
    }

    /** How long to wait after [failures] failures in a row to reach Redis. */
    fun backoff(failures: Int): Duration =
        Backoff.after(failures, options.reconnectMin, options.reconnectMax, SHIFT_CAP)

    /** Waits [wait], or less if stopped. */
    suspend fun pause(wait: Duration) {
        withTimeoutOrNull(wait.toMillis().coerceAtLeast(1)) { stopped.await() }
    }

    /**
     * [block] on the list's keys and messages as bytes: messages are handled as the bytes `LPUSH` stored (a message
     * is removed by `LREM` of those bytes, which its UTF-8 text would not match if it is not valid UTF-8).
     */
    private suspend fun <T> bytes(block: suspend Commands<ByteArray, ByteArray>.() -> T): T =
        picket.withConn(spec, ByteArrayCodec.INSTANCE, block)

    /** Moves [message] from the processing list to the dead list after [attempts] runs, the last failing by [e]. */
    private suspend fun deadLetter(
        message: ByteArray,
        attempts: Int,
        e: Throwable,
    ): Nothing {
        settle {
            runScriptIn<ByteArray, ByteArray, Long>(
                Scripts.LIST_DEAD_LETTER,
                ScriptOutputType.INTEGER,
                arrayOf(names.processingKey, names.deadKey, names.attemptsKey),
                message,
            )
        }
        val text = message.toString(UTF_8)
        emit(ListEvent.DeadLettered(text, attempts, e, names.dead))
        throw MessageDeadLetteredException(names.list, names.dead, text, attempts, e)
    }

    private fun interrupted(runs: Long) =
        IllegalStateException(
            "its handling was interrupted $runs times (the listener crashed, was stopped or lost Redis " +
                "mid-message)",
        )

    /**
     * Runs [block] (a removal from the processing list) until Redis takes it; while Redis is down this waits,
     * unless the listener is stopped: then the message stays in the processing list for the next recovery.
     */
    private suspend fun settle(block: suspend Commands<ByteArray, ByteArray>.() -> Any?) {
        var failures = 0
        while (true) {
            try {
                picket.withConn(spec.copy(idempotent = true), ByteArrayCodec.INSTANCE) { block() }
                return
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                failures++
                val wait = backoff(failures)
                emit(ListEvent.ConnectionFailed(e, failures, wait))
                if (stopped.isCompleted) throw e
                pause(wait)
            }
        }
    }

    private companion object {
        const val SHIFT_CAP = 16
        val FOREVER: Duration = Duration.ofNanos(Long.MAX_VALUE)
    }
}

/** The names a list listener works with: the list, its processing and dead lists, the processing list's attempts. */
internal class ListNames(
    val list: String,
    val processing: String,
    val dead: String,
    val attempts: String,
) {
    val listKey: ByteArray = list.toByteArray(UTF_8)
    val processingKey: ByteArray = processing.toByteArray(UTF_8)
    val deadKey: ByteArray = dead.toByteArray(UTF_8)
    val attemptsKey: ByteArray = attempts.toByteArray(UTF_8)
}
