package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.internal.Backoff
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/**
 * The replies to one bus instance's calls: one coroutine reads the instance's reply list (`BLPOP` on a dedicated
 * connection it holds, then whatever else is there in one `LPOP`) and completes each pending call by its id.
 * Replies for calls no longer pending (timed out, or a duplicate) are dropped.
 */
internal class Replies(
    private val picket: Picket,
    private val blockingSpec: ConnSpec,
    private val key: String,
    private val blockSeconds: Double,
    private val scope: CoroutineScope,
    private val onClosed: () -> Unit = {},
) {
    val pending = ConcurrentHashMap<String, CompletableDeferred<JsonNode>>()
    private val started = AtomicBoolean(false)
    private var job: Job? = null

    fun start() {
        if (started.compareAndSet(false, true)) job = scope.launch { read() }
    }

    private suspend fun read() {
        val backoff = Backoff(MIN_BACKOFF_MS, MAX_BACKOFF_MS)
        while (scope.isActive) {
            try {
                // One connection held for as long as it reads: given back after each read, it would be reset
                // (UNWATCH + SELECT) before the next one, a round trip more per read.
                picket.withDedicatedConn(blockingSpec) {
                    while (scope.isActive) {
                        val first = blpop(blockSeconds, key)
                        backoff.reset()
                        if (first != null) {
                            dispatch(first.value)
                            if (pending.isNotEmpty()) lpop(key, DRAIN.toLong()).forEach(::dispatch)
                        }
                    }
                }
            } catch (e: CancellationException) {
                throw e
            } catch (e: PicketClosedException) {
                // Terminal: retrying a closed Picket would spin forever.
                log.debug { "bus reply list $key: ${e.message}; the bus closes" }
                onClosed()
                return
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.debug { "bus reply list $key: ${e.message}; reading again in ${backoff.upcomingMs} ms" }
                backoff.pause()
            }
        }
    }

    private fun dispatch(text: String) {
        val node = runCatching { Json.read(text) }.getOrNull() ?: return log.warn { "bus reply is not JSON: $text" }
        val id = node.get("id")?.asText() ?: return
        pending.remove(id)?.complete(node)
    }

    private companion object {
        const val MIN_BACKOFF_MS = 50L
        const val MAX_BACKOFF_MS = 1_000L
        const val DRAIN = 256
    }
}
