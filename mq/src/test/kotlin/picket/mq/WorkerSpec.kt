package picket.mq

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeGreaterThanOrEqualTo
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.sentinel.testing.ChildJvm
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/**
 * How a worker paces and reports itself, on a real topology of its own (1 master, 1 sentinel: nothing here fails
 * over): poll throttling, jitter, metrics, draining on stop, backlog warnings, a worker process killed with SIGKILL.
 */
class WorkerSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = TopologyConfig.DEFAULT_MASTER_NAME)
        val queues = picket.queues(spec)
        val events = CopyOnWriteArrayList<QueueEvent>()
        queues.registerListener { events += it }
        afterSpec { picket.close() }

        test(
            "poll throttling: after each poll that took messages, the worker pauses as long as the backlog says",
        ) {
            withTimeout(30.seconds) {
                val q = "throttled"
                (1..8).forEach { queues.enqueue(q, "m-$it") }
                val asked = CopyOnWriteArrayList<Pair<Long, Long>>() // the backlog a poll left, when it was asked
                val backlogs = CopyOnWriteArrayList<Long>() // as each handler saw it
                val throttle =
                    Throttle { backlog ->
                        asked += backlog to System.nanoTime()
                        Duration.ofMillis(backlog * 40)
                    }
                val worker =
                    queues.worker(q, WorkerOptions(concurrency = 1, throttle = throttle)) { d ->
                        backlogs += d.queueSize
                        HandlerResult.success()
                    }
                within(10) { queues.status(q).done shouldBe 8 }
                worker.stop() shouldBe true
                // One message per poll (one handler): the backlog falls by one each time, and the throttle is asked
                // once per poll that took something, with what that poll left.
                backlogs shouldContainExactly (7L downTo 0L).toList()
                asked.map { it.first } shouldContainExactly (7L downTo 0L).toList()
                // The throttle is asked right after each poll, on the polling coroutine: from one question to the next
                // there is the pause it asked for, then a free handler and the next take.
                val gaps = asked.zipWithNext { a, b -> a.first to Duration.ofNanos(b.second - a.second) }
                println(
                    "throttled polls, backlog to the time until the next poll: ${gaps.map {
                        "${it.first}: ${it.second.toMillis()} ms"
                    }}",
                )
                gaps.forEach { (backlog, gap) -> gap shouldBeGreaterThanOrEqualTo Duration.ofMillis(backlog * 40) }
                gaps.first().second shouldBeGreaterThan gaps.last().second // 280 ms of pause against 40
            }
        }

        test("retry backoff jitter spreads retries within ±jitter of the backoff") {
            withTimeout(30.seconds) {
                val policy = RetryPolicy(maxAttempts = 2, initialBackoff = Duration.ofMillis(200), jitter = 0.5)
                val drawn = (1..2_000).map { policy.backoff(1).toMillis() }
                drawn.forEach { it shouldBeInRange 100L..300L }
                (drawn.max() - drawn.min()) shouldBeGreaterThan 180L // nearly the whole ±50 %
                RetryPolicy(initialBackoff = Duration.ofMillis(200), jitter = 0.0).backoff(1) shouldBe
                    Duration.ofMillis(200)

                // On the queue: 20 messages each failing once are retried at spread times, each not before its backoff.
                val q = "jittered-retry"
                val runs = ConcurrentHashMap<String, CopyOnWriteArrayList<Long>>()
                val worker =
                    queues.worker(q, WorkerOptions(concurrency = 20, retry = policy)) { d ->
                        runs.computeIfAbsent(d.id) { CopyOnWriteArrayList() } += System.nanoTime()
                        if (d.attempt == 1) HandlerResult.retry() else HandlerResult.success()
                    }
                repeat(20) { queues.enqueue(q, "m-$it") }
                within(10) { queues.status(q).done shouldBe 20 }
                worker.stop() shouldBe true
                val retried = events.filterIsInstance<QueueEvent.Retried>().filter { it.queue == q }
                retried shouldHaveSize 20
                val backoffs = retried.map { it.backoff.toMillis() }
                println("20 retries with a 200 ms backoff and jitter 0.5: backoffs ${backoffs.sorted()}")
                backoffs.forEach { it shouldBeInRange 100L..300L }
                (backoffs.max() - backoffs.min()) shouldBeGreaterThan 50L
                backoffs.toSet().size shouldBeGreaterThan 10
                // Due times are the master's milliseconds (TIME, truncated): a retry may be taken up to 1 ms before
                // its backoff has passed to the microsecond.
                retried.forEach { r ->
                    val (first, second) = runs.getValue(r.id)
                    Duration.ofNanos(second - first) shouldBeGreaterThanOrEqualTo r.backoff.minusMillis(2)
                }
            }
        }

        test("poll jitter: an idle worker's polls reach the master at spread intervals within ±jitter") {
            withTimeout(30.seconds) {
                val q = "jittered-poll"
                val master = topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)
                val options =
                    WorkerOptions(jitter = 0.5).idleBackoff(Duration.ofMillis(100), Duration.ofMillis(100))
                val (_, seen) =
                    monitor(master) {
                        val worker = queues.worker(q, options) { HandlerResult.success() }
                        delay(2_500) // the window watched: about 25 polls
                        worker.stop()
                    }
                // The scripts' calls, not the commands they run (MONITOR shows those too, as "[0 lua]").
                val polls =
                    seen
                        .filter { (_, line) -> "\"picket:mq:{$q}:ready\"" in line && "lua]" !in line }
                        .map { it.first }
                val intervals = polls.zipWithNext { a, b -> (b - a) / 1_000 }.drop(1) // after the first pause
                println("idle polls 100 ms ± 50 %, intervals on the master (ms): $intervals")
                intervals.size shouldBeGreaterThan 12
                // An interval on the master is the drawn pause plus the script's round trip, which a loaded machine
                // stretches at random: so no bound counts on how small that overhead is. Never shorter than the
                // least jittered pause; the middle 80 % of the intervals spread like uniform draws over 50..150 ms
                // (80 ms expected; a fixed beat spreads by the overhead's jitter only); centred near 100 ms.
                val sorted = intervals.sorted()
                sorted.first() shouldBeGreaterThanOrEqualTo 49L
                (sorted[sorted.size * 9 / 10] - sorted[sorted.size / 10]) shouldBeGreaterThan 40L
                sorted[sorted.size / 2] shouldBeInRange 70L..150L
            }
        }

        test("a worker's metrics: time-to-handler and handling time within bounds of the delays, counts per status") {
            withTimeout(30.seconds) {
                val q = "metrics"
                val names = listOf("ok-1", "ok-2", "ok-3", "ok-4", "retry", "fail", "throw", "null", "overrun")
                val enqueuedAt = System.nanoTime()
                names.forEach { name ->
                    val vt = if (name == "overrun") Duration.ofMillis(500) else null
                    queues.enqueue(q, name, EnqueueOptions(visibilityTimeout = vt))
                }
                delay(300) // every first delivery waits at least this long for its handler
                val policy = RetryPolicy(maxAttempts = 3, initialBackoff = Duration.ofMillis(50), jitter = 0.0)
                val worker =
                    queues.worker(q, WorkerOptions(concurrency = names.size, retry = policy), { d ->
                        Thread.sleep(100) // every handling runs at least 100 ms
                        when {
                            d.attempt > 1 -> HandlerResult.success()
                            d.message == "retry" -> HandlerResult.retry(Duration.ofMillis(50))
                            d.message == "fail" -> HandlerResult.failure("cannot")
                            d.message == "throw" -> error("boom")
                            d.message == "null" -> null
                            d.message == "overrun" -> HandlerResult.success().also { Thread.sleep(10_000) }
                            else -> HandlerResult.success()
                        }
                    })
                within(15) { queues.status(q).let { (it.done to it.dead) shouldBe (8L to 1L) } }
                val elapsed = Duration.ofNanos(System.nanoTime() - enqueuedAt)
                worker.stop() shouldBe true
                val m = worker.metrics()
                println("worker metrics: $m")
                listOf(m.succeeded, m.retried, m.deadLettered, m.exceptions, m.unknownResults, m.leasesLost) shouldBe
                    listOf(8L, 3L, 1L, 1L, 1L, 1L)
                val status = queues.status(q)
                listOf(status.done, status.retried, status.deadLettered, status.redelivered) shouldBe
                    listOf(8L, 3L, 1L, 1L)

                // 9 first deliveries and 4 second ones (retry, throw, null, overrun).
                m.handlingTime.count shouldBe 13
                m.timeToHandler.count shouldBe 13
                m.handlingTime.p50 shouldBeGreaterThanOrEqualTo Duration.ofMillis(100)
                m.handlingTime.mean shouldBeGreaterThanOrEqualTo Duration.ofMillis(100)
                // The overrun ran well past the others' 100 ms and was cancelled at its 500 ms lease (counted from
                // before the take was sent), not after its 10 s sleep.
                m.handlingTime.max shouldBeGreaterThanOrEqualTo Duration.ofMillis(250)
                m.handlingTime.max shouldBeLessThan Duration.ofSeconds(3)
                // 9 of 13 waited 300 ms or more before their handler (less 1 ms: the master's clock is read in whole
                // milliseconds); none longer than the whole run.
                m.timeToHandler.p50 shouldBeGreaterThanOrEqualTo Duration.ofMillis(299)
                m.timeToHandler.max shouldBeLessThan elapsed
                val handled = events.filterIsInstance<QueueEvent.Handled>().filter { it.queue == q }
                handled.filter { it.attempt == 1 }.forEach {
                    it.timeToHandler shouldBeGreaterThanOrEqualTo
                        Duration.ofMillis(299)
                }
                // A retry falls due after its backoff and is taken at once (the worker sleeps until the next due).
                handled.filter { it.attempt == 2 }.forEach { it.timeToHandler shouldBeLessThan Duration.ofSeconds(1) }
                handled.forEach { it.handlingTime shouldBeGreaterThanOrEqualTo Duration.ofMillis(100) }
            }
        }

        test(
            "stop waits for a running handler up to its timeout; then cancels it, and its message is delivered again",
        ) {
            withTimeout(30.seconds) {
                val q = "drain"
                // Within the timeout: stop returns once the handler finished and its result is recorded.
                val inside = CompletableDeferred<Unit>()
                val patient =
                    queues.worker(q) {
                        inside.complete(Unit)
                        delay(600)
                        HandlerResult.success()
                    }
                queues.enqueue(q, "short")
                inside.await()
                val asked = System.nanoTime()
                patient.stop(Duration.ofSeconds(10)) shouldBe true
                val waited = Duration.ofNanos(System.nanoTime() - asked)
                println("stop waited ${waited.toMillis()} ms for a handler with about 600 ms to go")
                waited shouldBeGreaterThanOrEqualTo Duration.ofMillis(300)
                waited shouldBeLessThan Duration.ofSeconds(5)
                patient.metrics().succeeded shouldBe 1
                queues.status(q).done shouldBe 1

                // Past the timeout: the handler is cancelled, nothing is recorded, and the lease brings it back.
                val started = CompletableDeferred<Delivery<String>>()
                val cancelled = CompletableDeferred<Unit>()
                val stubborn =
                    queues.worker(q, WorkerOptions(visibilityTimeout = Duration.ofSeconds(1))) { d ->
                        started.complete(d)
                        try {
                            awaitCancellation()
                        } finally {
                            cancelled.complete(Unit)
                        }
                    }
                queues.enqueue(q, "long")
                val first = started.await()
                val stopAt = System.nanoTime()
                stubborn.stop(Duration.ofMillis(300)) shouldBe false
                Duration.ofNanos(System.nanoTime() - stopAt) shouldBeGreaterThanOrEqualTo Duration.ofMillis(300)
                cancelled.isCompleted shouldBe true
                stubborn.metrics().succeeded shouldBe 0
                queues.messageStatus(q, first.id)!!.state shouldBe MessageState.IN_FLIGHT

                val again = CompletableDeferred<Delivery<String>>()
                val next = queues.worker(q) { d -> HandlerResult.success().also { again.complete(d) } }
                val second = again.await()
                next.stop()
                second.id shouldBe first.id
                second.attempt shouldBe 2
                second.lastError!! shouldStartWith "lease expired: attempt 1 was not acknowledged"
                queues.status(q).done shouldBe 2
            }
        }

        test("BacklogHigh fires at enqueue with no worker running, once per crossing; status and polls check it too") {
            withTimeout(30.seconds) {
                val q = "backlog"

                fun warnings() = events.filterIsInstance<QueueEvent.BacklogHigh>().filter { it.queue == q }
                val watch = queues.warnBacklogAbove(q, 5)
                repeat(5) { queues.enqueue(q, "m-$it") }
                warnings() shouldBe emptyList()
                queues.enqueue(q, "m-5")
                warnings() shouldBe listOf(QueueEvent.BacklogHigh(q, 6, 5))
                queues.enqueue(q, "m-6")
                queues.enqueue(q, "later", EnqueueOptions(delay = Duration.ofMinutes(1)))
                warnings() shouldHaveSize 1 // once per crossing

                // Drained below the threshold (seen by status), then past it again: a second warning.
                val worker = queues.worker(q, WorkerOptions(concurrency = 8)) { HandlerResult.success() }
                within(10) { queues.status(q).let { (it.done to it.ready) shouldBe (7L to 0L) } }
                worker.stop()
                repeat(6) { queues.enqueue(q, "n-$it") }
                warnings() shouldBe listOf(QueueEvent.BacklogHigh(q, 6, 5), QueueEvent.BacklogHigh(q, 6, 5))

                // Another instance (a monitoring process) learns of it from a status call; a worker from its polls.
                val monitoring = picket.queues(spec)
                val seen = CopyOnWriteArrayList<QueueEvent.BacklogHigh>()
                monitoring.registerListener { if (it is QueueEvent.BacklogHigh) seen += it }
                monitoring.warnBacklogAbove(q, 3).use { monitoring.status(q) }
                seen shouldBe listOf(QueueEvent.BacklogHigh(q, 6, 3))
                val gate = CompletableDeferred<Unit>()
                val slow =
                    monitoring.worker(q, WorkerOptions(concurrency = 1, backlogWarning = 2)) {
                        gate.await()
                        HandlerResult.success()
                    }
                within(10) { seen shouldBe listOf(QueueEvent.BacklogHigh(q, 6, 3), QueueEvent.BacklogHigh(q, 5, 2)) }
                gate.complete(Unit)
                within(10) { queues.status(q).done shouldBe 13 }
                slow.stop()

                watch.close()
                repeat(7) { queues.enqueue(q, "o-$it") }
                warnings() shouldHaveSize 2 // no longer watched
                shouldThrow<InvalidSpecException> { queues.warnBacklogAbove(q, -1) }.message shouldBe
                    "backlog threshold is -1, must be >= 0"
                queues.clearQueueDeletingAllMessages(q)
            }
        }

        test("a worker process killed with SIGKILL mid-message: redelivered after its visibility timeout, attempt 2") {
            withTimeout(40.seconds) {
                val q = "killed-process"
                val sentinels = topology.sentinels.joinToString(",") { "${it.host}:${it.port}" }
                val master = TopologyConfig.DEFAULT_MASTER_NAME
                ChildJvm.start(KillableWorker::class, sentinels, master, q, "2000").use { worker ->
                    val child = worker.process
                    val launched = System.nanoTime()
                    worker.line("started", 20.seconds)
                    val id = queues.enqueue(q, "survives").id
                    worker.line("taken", 20.seconds) shouldBe "taken $id 1"
                    val takenAt = System.nanoTime()
                    println("the worker process started in ${(takenAt - launched) / 1_000_000} ms and took $id")
                    worker.kill()
                    child.waitFor(10, TimeUnit.SECONDS) shouldBe true
                    child.exitValue() shouldBe 137 // SIGKILL
                    queues.messageStatus(q, id)!!.state shouldBe MessageState.IN_FLIGHT

                    val again = CompletableDeferred<Delivery<String>>()
                    val survivor = queues.worker(q) { d -> HandlerResult.success().also { again.complete(d) } }
                    val second = again.await()
                    val after = Duration.ofNanos(System.nanoTime() - takenAt)
                    survivor.stop()
                    println("redelivered ${after.toMillis()} ms after the killed process took it (lease 2,000 ms)")
                    second.id shouldBe id
                    second.attempt shouldBe 2
                    second.message shouldBe "survives"
                    second.lastError!! shouldStartWith "lease expired: attempt 1 was not acknowledged"
                    after shouldBeGreaterThanOrEqualTo Duration.ofMillis(1_500)
                    events.filterIsInstance<QueueEvent.Redelivered>().filter { it.queue == q }.map { it.id } shouldBe
                        listOf(id)
                }
            }
        }
    })
