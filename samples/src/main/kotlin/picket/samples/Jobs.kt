package picket.samples

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Picket
import picket.mq.HandlerResult
import picket.mq.ListListener
import picket.mq.RetryPolicy
import picket.mq.WorkerOptions
import picket.mq.queues
import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.time.Duration.Companion.seconds

/**
 * The demo's message queue: three jobs, one that fails twice and succeeds on its third attempt, one that ends in the
 * dead-letter list; then the list listener picks up a message pushed with a plain LPUSH.
 */
class Jobs(
    private val picket: Picket,
    private val spec: ConnSpec,
) {
    suspend fun run() {
        val queues = picket.queues(spec)
        val log = ConcurrentLinkedQueue<String>()
        val retry = RetryPolicy(maxAttempts = 3, initialBackoff = Duration.ofMillis(100), jitter = 0.0)
        val worker =
            queues.worker("demo:jobs", WorkerOptions(concurrency = 2, retry = retry)) { job ->
                when (job.message) {
                    "flaky" -> if (job.attempt < 3) error("flaky failed on attempt ${job.attempt}")
                    "poison" -> error("poison never works")
                }
                log += "${job.message} on attempt ${job.attempt}"
                HandlerResult.success()
            }
        listOf("invoice", "flaky", "poison").forEach { queues.enqueue("demo:jobs", it) }
        withTimeout(10.seconds) {
            while (queues.status("demo:jobs").let { it.done < 2 || it.dead < 1 }) delay(10)
        }
        worker.stop()
        val dead = queues.deadLetters("demo:jobs").single()
        println("queue: handled ${log.joinToString()}; retried ${worker.metrics().retried} times in all")
        println("queue: ${dead.message} dead-lettered after ${dead.attempts} attempts: ${dead.error}")

        val heard = CompletableDeferred<String>()
        val listener = ListListener(picket, spec, "demo:inbox") { message -> message.also { heard.complete(it) } }
        coroutineScope {
            val listening = launch { listener.listen() }
            val length = picket.withConn(spec) { lpush("demo:inbox", "hello from a plain LPUSH") }
            val got = withTimeout(10.seconds) { heard.await() }
            listener.stop()
            listening.join()
            val left = picket.withConn(spec) { llen(listener.processingList) }
            println("list: LPUSH demo:inbox -> $length; the listener picked up '$got' ($left left in processing)")
        }
    }
}
