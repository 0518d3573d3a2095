package picket.core.internal.connections

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.job
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

private val log = KotlinLogging.logger {}

/** Waits, at most [seconds], for every coroutine of [scope] to end after its cancellation. */
internal fun awaitCompletion(
    scope: CoroutineScope,
    seconds: Long,
) {
    val done = CountDownLatch(1)
    scope.coroutineContext.job.invokeOnCompletion { done.countDown() }
    if (!done.await(seconds, TimeUnit.SECONDS)) log.debug { "coroutines still running at close" }
}

/** Waits, at most [seconds], for [closing] (connections being closed); a failure is only logged. */
internal fun awaitClosed(
    closing: CompletableFuture<*>,
    seconds: Long,
) {
    try {
        closing.get(seconds, TimeUnit.SECONDS)
    } catch (e: TimeoutException) {
        log.debug(e) { "connections still closing at close" }
    } catch (e: ExecutionException) {
        log.debug(e) { "a connection failed to close" }
    }
}
