package picket.mq

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeGreaterThanOrEqualTo
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.StatusOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/** The message queue on a real topology (1 master, 2 replicas, 3 sentinels). */
class MessageQueuesSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = TopologyConfig.DEFAULT_MASTER_NAME)
        val queues = picket.queues(spec)
        val events = CopyOnWriteArrayList<QueueEvent>()
        queues.registerListener { events += it }
        afterSpec { picket.close() }
        val fast = RetryPolicy(maxAttempts = 3, initialBackoff = Duration.ofMillis(100), jitter = 0.0)

        test("10,000 messages through 3 workers x 8 handlers: every one handled exactly once, none by two at once") {
            withTimeout(90.seconds) {
                val handled = ConcurrentHashMap<String, AtomicInteger>()
                val active = ConcurrentHashMap.newKeySet<String>()
                val overlaps = AtomicInteger()
                val began = System.nanoTime()
                coroutineScope {
                    (0 until 50).forEach { p ->
                        launch { (0 until 200).forEach { i -> queues.enqueue("bulk", "m-${p * 200 + i}") } }
                    }
                }
                val enqueued = System.nanoTime()
                val workers =
                    (1..3).map {
                        queues.worker("bulk", WorkerOptions(concurrency = 8)) { d ->
                            if (!active.add(d.message)) overlaps.incrementAndGet()
                            handled.computeIfAbsent(d.message) { AtomicInteger() }.incrementAndGet()
                            if (d.attempt == 1 && d.message.endsWith("7")) delay(1)
                            active.remove(d.message)
                            HandlerResult.success()
                        }
                    }
                within(60) { queues.status("bulk").done shouldBe 10_000 }
                val finished = System.nanoTime()
                workers.forEach { it.stop() shouldBe true }
                println(
                    "10,000 messages: enqueued by 50 coroutines in ${(enqueued - began) / 1_000_000} ms, handled by " +
                        "3 x 8 handlers in ${(finished - enqueued) / 1_000_000} ms; first worker: " +
                        "${workers[0].metrics()}",
                )
                handled.size shouldBe 10_000
                handled.values.count { it.get() != 1 } shouldBe 0
                overlaps.get() shouldBe 0
                workers.sumOf { it.metrics().succeeded } shouldBe 10_000
                val status = queues.status("bulk")
                listOf(status.ready, status.delayed, status.inFlight, status.dead, status.redelivered) shouldBe
                    listOf(0L, 0L, 0L, 0L, 0L)
                status.enqueued shouldBe 10_000
            }
        }

        test("handlers finishing together are recorded in batches, each against its own lease") {
            withTimeout(60.seconds) {
                val q = "batch"
                val total = 200
                val held = 64
                val handled = ConcurrentHashMap<String, AtomicInteger>()
                val ids = ConcurrentHashMap<String, String>()
                val inside = AtomicInteger()
                val allInside = CompletableDeferred<Unit>()
                val gate = CompletableDeferred<Unit>()
                (0 until total).forEach { queues.enqueue(q, "m-$it") }
                val master = topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)
                val before = Inspect.commandCalls(master)
                val worker =
                    queues.worker(q, WorkerOptions(concurrency = held)) { d ->
                        handled.computeIfAbsent(d.message) { AtomicInteger() }.incrementAndGet()
                        ids[d.message] = d.id
                        if (inside.incrementAndGet() == held) allInside.complete(Unit)
                        gate.await() // the first 64 finish together
                        when (d.message) {
                            "m-6" -> HandlerResult.retry(Duration.ofMinutes(1))
                            "m-7" -> HandlerResult.failure("bad m-7")
                            else -> HandlerResult.success()
                        }
                    }
                allInside.await()
                // m-5's lease is no longer this worker's: as if it had expired and another worker had taken it.
                Inspect.on(master) { it.hset("picket:mq:{$q}:m:${ids.getValue("m-5")}", "lease", "other-worker:1") }
                gate.complete(Unit)
                within(30) { queues.status(q).done shouldBe total - 3L }
                worker.stop() shouldBe true
                val after = Inspect.commandCalls(master)

                handled.size shouldBe total
                handled.values.count { it.get() != 1 } shouldBe 0
                val m = worker.metrics()
                listOf(m.succeeded, m.retried, m.deadLettered, m.leasesLost) shouldBe listOf(total - 3L, 1L, 1L, 1L)
                val status = queues.status(q)
                listOf(
                    status.done,
                    status.retried,
                    status.deadLettered,
                    status.inFlight,
                    status.delayed,
                    status.dead,
                ) shouldBe
                    listOf(total - 3L, 1L, 1L, 1L, 1L, 1L)
                val lost = queues.messageStatus(q, ids.getValue("m-5")).shouldNotBeNull()
                lost.state shouldBe MessageState.IN_FLIGHT // not acknowledged by the batch
                lost.message shouldBe "m-5"
                queues.deadLetters(q).single().error shouldBe "bad m-7"
                val mine = events.filter { it.queue == q }
                mine.filterIsInstance<QueueEvent.LeaseLost>() shouldBe
                    listOf(QueueEvent.LeaseLost(q, ids.getValue("m-5"), 1, expired = false))
                mine.filterIsInstance<QueueEvent.Retried>().map { it.id } shouldBe listOf(ids.getValue("m-6"))
                mine.filterIsInstance<QueueEvent.DeadLettered>().map { it.id } shouldBe listOf(ids.getValue("m-7"))
                mine.filterIsInstance<QueueEvent.Handled>() shouldHaveSize total
                // One ZREMRANGEBYSCORE per settling call that acknowledged something: far fewer calls than messages.
                val settles = (after["zremrangebyscore"] ?: 0) - (before["zremrangebyscore"] ?: 0)
                println("$total handlings recorded in $settles acknowledging calls")
                settles shouldBeLessThan total / 2L
                queues.clearQueueDeletingAllMessages(q)
            }
        }

        test("enqueues made while one is in flight are sent together, each with its own outcome") {
            withTimeout(60.seconds) {
                val q = "enqueue-batch"
                val total = 300
                val master = topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)
                val before = Inspect.commandCalls(master)
                val results =
                    coroutineScope {
                        // The master holds every write for a moment: the first enqueue goes out alone and waits, the
                        // others queue up behind it and go in the next calls, at most 128 per call.
                        Inspect.on(master) {
                            it.dispatch(
                                CommandType.CLIENT,
                                StatusOutput(StringCodec.UTF8),
                                CommandArgs(StringCodec.UTF8).add("PAUSE").add(PAUSE_MS).add("WRITE"),
                            )
                        }
                        (0 until total)
                            .map { i ->
                                async(Dispatchers.Default) {
                                    val id = if (i == 10 || i == 20) EnqueueOptions(id = "twice") else null
                                    queues.enqueue(q, "m-$i", id ?: EnqueueOptions.DEFAULT)
                                }
                            }.awaitAll()
                    }
                val calls = (Inspect.commandCalls(master)["evalsha"] ?: 0) - (before["evalsha"] ?: 0)
                println("$total concurrent enqueues sent in $calls script calls")
                calls shouldBeLessThan 10L
                results.map { it.outcome }.groupingBy { it }.eachCount() shouldBe
                    mapOf(EnqueueOutcome.ADDED to total - 1, EnqueueOutcome.ALREADY_QUEUED to 1)
                results.map { it.id }.toSet() shouldHaveSize total - 1
                val status = queues.status(q)
                listOf(status.ready, status.enqueued) shouldBe listOf(total - 1L, total - 1L)
                // A lone enqueue goes at once, alone.
                val lone = Inspect.commandCalls(master)["evalsha"] ?: 0
                queues.enqueue(q, "alone").outcome shouldBe EnqueueOutcome.ADDED
                (Inspect.commandCalls(master)["evalsha"] ?: 0) - lone shouldBe 1L
                queues.clearQueueDeletingAllMessages(q)
            }
        }

        test("one worker with one handler takes messages in the order they were enqueued") {
            withTimeout(30.seconds) {
                (1..200).forEach { queues.enqueue("fifo", "$it") }
                val seen = CopyOnWriteArrayList<String>()
                val worker = queues.worker("fifo") { d -> HandlerResult.success().also { seen += d.message } }
                (201..300).forEach { queues.enqueue("fifo", "$it") }
                within(20) { seen shouldHaveSize 300 }
                worker.stop()
                seen shouldContainExactly (1..300).map { "$it" }
            }
        }

        test("a worker killed mid-message: redelivered after its visibility timeout, with attempt number 2") {
            withTimeout(30.seconds) {
                val doomed = Picket().apply { setSentinelGroups("main" to topology.sentinelGroup()) }
                val first = CompletableDeferred<Delivery<String>>()
                val dying =
                    doomed.queues(spec).worker("kill", WorkerOptions(visibilityTimeout = Duration.ofSeconds(1))) { d ->
                        first.complete(d)
                        awaitCancellation()
                    }
                // The lease starts when the master hands the message out, after this instant: so the redelivery
                // comes at least the visibility timeout after it, however late the first handler was called.
                val enqueuedAt = System.nanoTime()
                queues.enqueue("kill", "important")
                val taken = first.await()
                taken.attempt shouldBe 1
                // The coroutine dies without an acknowledgement, and its connections with it.
                dying.stop(Duration.ZERO) shouldBe false
                doomed.close()
                queues.messageStatus("kill", taken.id)!!.state shouldBe MessageState.IN_FLIGHT

                val second = CompletableDeferred<Delivery<String>>()
                val survivor = queues.worker("kill") { d -> HandlerResult.success().also { second.complete(d) } }
                val again = second.await()
                val after = Duration.ofNanos(System.nanoTime() - enqueuedAt)
                survivor.stop()
                println("redelivered ${after.toMillis()} ms after the enqueue (visibility timeout 1,000 ms)")
                again.id shouldBe taken.id
                again.message shouldBe "important"
                again.attempt shouldBe 2
                again.lastError!! shouldStartWith "lease expired: attempt 1 was not acknowledged"
                after shouldBeGreaterThanOrEqualTo Duration.ofMillis(990)
                events
                    .filterIsInstance<QueueEvent.Redelivered>()
                    .filter { it.queue == "kill" }
                    .map { it.id } shouldContainExactly listOf(taken.id)
                queues.status("kill").redelivered shouldBe 1
            }
        }

        test("a handler's own timeout is a failure that is retried; a shorter lease extension is kept locally too") {
            withTimeout(30.seconds) {
                // A CancellationException the handler throws itself (its own withTimeout) is retried like any other.
                val attempts = CopyOnWriteArrayList<Int>()
                val timedOut =
                    queues.worker(
                        "own-timeout",
                        WorkerOptions(
                            retry = RetryPolicy(maxAttempts = 3, initialBackoff = Duration.ofMillis(10), jitter = 0.0),
                        ),
                    ) { d ->
                        attempts += d.attempt
                        if (d.attempt == 1) withTimeout(10) { awaitCancellation() }
                        HandlerResult.success()
                    }
                queues.enqueue("own-timeout", "slow once")
                within(10) { queues.status("own-timeout").done shouldBe 1 }
                timedOut.stop()
                attempts shouldContainExactly listOf(1, 2)

                // A handler that shortens its lease (10 s visibility, extended to 300 ms) and then hangs is cancelled
                // at the shorter deadline: by then the master has given the message to whoever takes it next.
                val cancelledAt = CompletableDeferred<Long>()
                val started = CompletableDeferred<Long>()
                val hanging =
                    queues.worker("shorter", WorkerOptions(visibilityTimeout = Duration.ofSeconds(10))) { d ->
                        if (d.attempt > 1) return@worker HandlerResult.success()
                        d.extendLease(Duration.ofMillis(300))
                        started.complete(System.nanoTime())
                        try {
                            awaitCancellation()
                        } finally {
                            cancelledAt.complete(System.nanoTime())
                        }
                    }
                queues.enqueue("shorter", "hangs")
                val begin = started.await()
                val ranFor = Duration.ofNanos(cancelledAt.await() - begin)
                println("a handler that shortened its lease to 300 ms was cancelled after ${ranFor.toMillis()} ms")
                ranFor shouldBeLessThan Duration.ofSeconds(5)
                within(10) { queues.status("shorter").done shouldBe 1 }
                hanging.stop()
                // The cancelled handling recorded nothing and said why: its lease expired.
                events.filterIsInstance<QueueEvent.LeaseLost>().filter { it.queue == "shorter" }.map {
                    it.attempt to it.expired
                } shouldContainExactly listOf(1 to true)
                hanging.metrics().leasesLost shouldBe 1
            }
        }

        test("a visibility timeout set at enqueue, an id kept after success for a while, and the bytes codec") {
            withTimeout(30.seconds) {
                // The message's own lease (2 s) wins over the worker's (60 s): its deadline says so.
                val first = CompletableDeferred<Delivery<String>>()
                val leased =
                    queues.worker("own-lease") { d ->
                        HandlerResult.success(Duration.ofSeconds(30)).also {
                            first.complete(d)
                        }
                    }
                val began = java.time.Instant.now()
                queues.enqueue(
                    "own-lease",
                    "short",
                    EnqueueOptions(id = "kept", visibilityTimeout = Duration.ofSeconds(2)),
                )
                val delivery = first.await()
                val lease = Duration.between(began, delivery.leaseDeadline)
                lease shouldBeGreaterThan Duration.ofMillis(1_000)
                lease shouldBeLessThan Duration.ofSeconds(10)
                within(10) { queues.status("own-lease").done shouldBe 1 }
                // Success(keepIdFor = 30 s): the id stays de-duplicated, whatever the worker's default.
                queues.enqueue("own-lease", "again", EnqueueOptions(id = "kept")).outcome shouldBe
                    EnqueueOutcome.RECENTLY_DONE
                leased.stop()

                // Bytes go through unchanged, including ones that are not valid UTF-8.
                val bytes = picket.queues(spec, MessageCodec.BYTES)
                val payload = byteArrayOf(0, -1, -2, 127, 10, -128)
                val got = CompletableDeferred<ByteArray>()
                val raw = bytes.worker("bytes") { d -> HandlerResult.success().also { got.complete(d.message) } }
                bytes.enqueue("bytes", payload)
                got.await().toList() shouldBe payload.toList()
                raw.stop()
            }
        }

        test("failures are retried with backoff, then dead-lettered with the error; dead letters can be re-queued") {
            withTimeout(30.seconds) {
                val attempts = ConcurrentHashMap<String, CopyOnWriteArrayList<Pair<Int, Long>>>()
                val healed = AtomicInteger()
                val worker =
                    queues.worker("retry", WorkerOptions(concurrency = 4, retry = fast)) { d ->
                        attempts.computeIfAbsent(d.message) { CopyOnWriteArrayList() } += d.attempt to System.nanoTime()
                        when (d.message) {
                            "flaky" -> {
                                if (d.attempt < 3) error("boom ${d.attempt}") else HandlerResult.success()
                            }

                            "poison" -> {
                                if (healed.get() == 0) error("always boom") else HandlerResult.success()
                            }

                            "asks" -> {
                                if (d.attempt ==
                                    1
                                ) {
                                    HandlerResult.retry(Duration.ofMillis(300))
                                } else {
                                    HandlerResult.success()
                                }
                            }

                            else -> {
                                HandlerResult.failure("cannot parse '${d.message}'")
                            }
                        }
                    }
                val poison = queues.enqueue("retry", "poison").id
                val garbage = queues.enqueue("retry", "garbage").id
                queues.enqueue("retry", "flaky")
                queues.enqueue("retry", "asks")
                within(10) { queues.status("retry").dead shouldBe 2 }
                within(10) { queues.status("retry").done shouldBe 2 }

                val flaky = attempts.getValue("flaky")
                flaky.map { it.first } shouldContainExactly listOf(1, 2, 3)
                // Backoff 100 ms, then 200 ms (multiplier 2, no jitter).
                Duration.ofNanos(flaky[1].second - flaky[0].second) shouldBeGreaterThanOrEqualTo Duration.ofMillis(90)
                Duration.ofNanos(flaky[2].second - flaky[1].second) shouldBeGreaterThanOrEqualTo Duration.ofMillis(190)
                val asks = attempts.getValue("asks")
                Duration.ofNanos(asks[1].second - asks[0].second) shouldBeGreaterThanOrEqualTo Duration.ofMillis(290)
                attempts.getValue("poison").map { it.first } shouldContainExactly listOf(1, 2, 3)
                attempts.getValue("garbage").map { it.first } shouldContainExactly listOf(1)

                val dead = queues.deadLetters("retry").associateBy { it.id }
                dead.keys shouldBe setOf(poison, garbage)
                dead.getValue(poison).attempts shouldBe 3
                dead.getValue(poison).error shouldBe "java.lang.IllegalStateException: always boom"
                dead.getValue(poison).message shouldBe "poison"
                dead.getValue(garbage).error shouldBe "cannot parse 'garbage'"
                // A handling's event follows its settle script's reply: awaited, as the master's counts can be
                // read before the handler's coroutine has had that reply.
                within(5) {
                    events
                        .filterIsInstance<QueueEvent.DeadLettered>()
                        .filter { it.queue == "retry" }
                        .map { it.id }
                        .toSet() shouldBe
                        setOf(poison, garbage)
                    events.filterIsInstance<QueueEvent.Retried>().count { it.queue == "retry" } shouldBe 5
                }

                healed.set(1)
                queues.requeueDead("retry", listOf(poison)) shouldBe 1
                within(10) { queues.status("retry").done shouldBe 3 }
                attempts.getValue("poison").map { it.first } shouldContainExactly listOf(1, 2, 3, 1)
                queues.deadLetters("retry").map { it.id } shouldContainExactly listOf(garbage)
                queues.requeueAllDead("retry") shouldBe 1
                within(10) { queues.status("retry").dead shouldBe 1 }
                worker.stop()
                worker.metrics().exceptions shouldBe 5
            }
        }

        test("de-duplication by id, update, requeue after the current handling, and debounce") {
            withTimeout(30.seconds) {
                val q = "dedup"
                val opts = EnqueueOptions(id = "order-1")
                queues.enqueue(q, "v1", opts) shouldBe EnqueueResult("order-1", EnqueueOutcome.ADDED)
                queues.enqueue(q, "v2", opts).outcome shouldBe EnqueueOutcome.ALREADY_QUEUED
                queues.messageStatus(q, "order-1")!!.message shouldBe "v1"
                queues.enqueue(q, "v3", opts.update()).outcome shouldBe EnqueueOutcome.UPDATED
                queues.messageStatus(q, "order-1")!!.message shouldBe "v3"

                val release = CompletableDeferred<Unit>()
                val seen = CopyOnWriteArrayList<String>()
                val worker =
                    queues.worker(q) { d ->
                        seen += "${d.id}=${d.message}"
                        if (seen.size == 1) release.await()
                        HandlerResult.success()
                    }
                within(10) { queues.messageStatus(q, "order-1")!!.state shouldBe MessageState.IN_FLIGHT }
                queues.enqueue(q, "v4", opts).outcome shouldBe EnqueueOutcome.IN_FLIGHT
                queues.enqueue(q, "v5", opts.requeue().update()).outcome shouldBe EnqueueOutcome.REQUEUE_SCHEDULED
                queues.messageStatus(q, "order-1")!!.requeueScheduled shouldBe true
                release.complete(Unit)
                within(10) { seen shouldContainExactly listOf("order-1=v3", "order-1=v5") }
                within(10) { queues.messageStatus(q, "order-1")!!.state shouldBe MessageState.DONE }
                queues.enqueue(q, "v6", opts).outcome shouldBe EnqueueOutcome.RECENTLY_DONE
                queues.status(q).recentlyDone shouldBe 1
                queues.enqueue(q, "v7", opts.requeue()).outcome shouldBe EnqueueOutcome.ADDED
                within(10) { seen.last() shouldBe "order-1=v7" }

                // Debounce: each enqueue restarts the delay; the message runs once, 1.5 s after the last one (a
                // delay well above the 250 ms between the two, so that no stall lets the worker take it in between).
                val debounced = EnqueueOptions(id = "refresh", delay = Duration.ofMillis(1_500), debounce = true)
                val start = System.nanoTime()
                queues.enqueue(q, "d", debounced).outcome shouldBe EnqueueOutcome.ADDED
                delay(250)
                queues.enqueue(q, "d", debounced).outcome shouldBe EnqueueOutcome.UPDATED
                within(10) { seen.last() shouldBe "refresh=d" }
                Duration.ofNanos(System.nanoTime() - start) shouldBeGreaterThanOrEqualTo Duration.ofMillis(1_740)
                seen.count { it == "refresh=d" } shouldBe 1
                worker.stop()
            }
        }

        test("delayed delivery: not before its time, shortly after; an enqueue elsewhere wakes an idle worker") {
            withTimeout(30.seconds) {
                val q = "later"
                val got = CopyOnWriteArrayList<Pair<Delivery<String>, Long>>()
                val worker =
                    queues.worker(q, WorkerOptions().idleBackoff(Duration.ofMillis(50), Duration.ofSeconds(10))) { d ->
                        got += d to System.nanoTime()
                        HandlerResult.success()
                    }
                delay(1_000) // idle long enough that its backoff is well above a second
                val sent = System.nanoTime()
                queues.enqueue(q, "in 600 ms", EnqueueOptions(delay = Duration.ofMillis(600)))
                queues.messageStatus(q, got.firstOrNull()?.first?.id ?: "none").shouldBeNull()
                within(10) { got shouldHaveSize 1 }
                val (delayed, at) = got[0]
                val waited = Duration.ofNanos(at - sent)
                println("delayed 600 ms: handled after ${waited.toMillis()} ms (age ${delayed.age.toMillis()} ms)")
                delayed.age shouldBeGreaterThanOrEqualTo Duration.ofMillis(600)
                waited shouldBeLessThan Duration.ofMillis(1_100)

                // Another process enqueues: the idle worker wakes through pub/sub, not at the end of its backoff.
                delay(1_500)
                val other = Picket().apply { setSentinelGroups("main" to topology.sentinelGroup()) }
                try {
                    val pushed = System.nanoTime()
                    other.enqueue(spec, q, "now")
                    within(10) { got shouldHaveSize 2 }
                    val woke = Duration.ofNanos(got[1].second - pushed)
                    println("an idle worker woke ${woke.toMillis()} ms after an enqueue from another Picket")
                    woke shouldBeLessThan Duration.ofMillis(500)
                } finally {
                    other.close()
                }
                worker.stop()
            }
        }

        test("durable enqueue: the message is on every replica when enqueue returns") {
            withTimeout(30.seconds) {
                val result =
                    queues.enqueue(
                        "durable",
                        "kept",
                        EnqueueOptions(durability = Durability.allReplicas(Duration.ofSeconds(2))),
                    )
                val replicas =
                    topology.dataNodes(TopologyConfig.DEFAULT_MASTER_NAME) -
                        topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)
                replicas shouldHaveSize 2
                replicas.forEach { node ->
                    Inspect.on(node) { it.hget("picket:mq:{durable}:m:${result.id}", "payload") } shouldBe "kept"
                }
            }
        }

        test("status, message view, queue names, lease extension and a loud clear") {
            withTimeout(30.seconds) {
                val q = "admin"
                queues.enqueue(q, "a")
                queues.enqueue(q, "b", EnqueueOptions(delay = Duration.ofMinutes(1)))
                delay(50)
                val before = queues.status(q)
                listOf(before.ready, before.delayed, before.inFlight, before.dead) shouldBe listOf(1L, 1L, 0L, 0L)
                before.oldestReadyAge.shouldNotBeNull() shouldBeGreaterThanOrEqualTo Duration.ofMillis(40)
                (q in queues.queueNames()) shouldBe true

                val extended = CompletableDeferred<Unit>()
                val worker =
                    queues.worker(q, WorkerOptions(visibilityTimeout = Duration.ofMillis(400))) { d ->
                        d.queueSize shouldBe 0
                        val deadline = d.extendLease(Duration.ofSeconds(3))
                        deadline shouldBe d.leaseDeadline
                        extended.complete(Unit)
                        delay(800) // twice the visibility timeout: kept by the extension
                        HandlerResult.success()
                    }
                extended.await()
                queues.status(q).inFlight shouldBe 1
                within(10) { queues.status(q).done shouldBe 1 }
                worker.stop()
                worker.metrics().leasesLost shouldBe 0
                queues.status(q).redelivered shouldBe 0

                queues.clearQueueDeletingAllMessages(q) shouldBe ClearedQueue(q, 0, 1, 0, 0, 0)
                val after = queues.status(q)
                listOf(after.ready, after.delayed, after.done, after.enqueued) shouldBe listOf(0L, 0L, 0L, 0L)
                (q in queues.queueNames()) shouldBe false
            }
        }

        test("an idle worker costs the server little: counted with INFO commandstats") {
            withTimeout(30.seconds) {
                val worker =
                    queues.worker("idle", WorkerOptions(concurrency = 32))
                        { HandlerResult.success() }
                delay(2_500) // the idle backoff grows to its maximum (2 s)
                val master = topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)
                val before = Inspect.commandCalls(master)
                val window = 6_000L
                delay(window)
                val after = Inspect.commandCalls(master)
                worker.stop()
                val own = listOf("evalsha", "eval", "ping", "info")
                val calls = own.associateWith { (after[it] ?: 0) - (before[it] ?: 0) }
                // INFO is this measurement's own; the sentinels' INFO and PING every second count too (3 sentinels).
                println("idle worker (32 handlers), ${window / 1000} s on the master: $calls (sentinels included)")
                calls.getValue("evalsha") shouldBeLessThan 8L
            }
        }

        test("a listener hears an enqueue before it returns; events is a flow of them from its collection on") {
            withTimeout(30.seconds) {
                val heard = CopyOnWriteArrayList<QueueEvent>()
                coroutineScope {
                    val collecting = launch { queues.events.collect { heard += it } }
                    // Once the collector has heard one, it is registered.
                    within(10) {
                        queues.enqueue("events-probe", "p")
                        heard.shouldNotBeEmpty()
                    }
                    val id = queues.enqueue("events-flow", "m").id
                    val enqueued = listOf(QueueEvent.Enqueued("events-flow", id, EnqueueOutcome.ADDED))
                    events.filter { it.queue == "events-flow" } shouldBe enqueued
                    within(10) { heard.filter { it.queue == "events-flow" } shouldBe enqueued }
                    collecting.cancelAndJoin()
                }
                queues.enqueue("events-flow", "after")
                heard.filter { it.queue == "events-flow" } shouldHaveSize 1
                events.filter { it.queue == "events-flow" } shouldHaveSize 2
            }
        }

        test("bad input gives typed errors naming what was wrong") {
            withTimeout(30.seconds) {
                shouldThrow<InvalidSpecException> { queues.enqueue(" ", "x") }.message shouldBe "queue name is blank"
                shouldThrow<InvalidSpecException> { queues.enqueue("a{b}", "x") }.message shouldContain "hash tag"
                shouldThrow<InvalidSpecException> { WorkerOptions(concurrency = 0) }.message shouldBe
                    "worker concurrency is 0, must be >= 1"
                shouldThrow<InvalidSpecException> { EnqueueOptions(delay = Duration.ofSeconds(-1)) }.message shouldBe
                    "enqueue delay is PT-1S, must be >= 0"
                shouldThrow<InvalidSpecException> { queues.worker("", WorkerOptions()) { HandlerResult.success() } }
                shouldThrow<InvalidSpecException> { RetryPolicy(maxAttempts = 0) }.message shouldBe
                    "maxAttempts is 0, must be >= 1"

                // A Java handler returning null: an error, retried, then dead-lettered with it.
                val worker =
                    queues.worker("unknown", WorkerOptions(retry = fast), { _ -> null })
                val id = queues.enqueue("unknown", "x").id
                within(10) { queues.status("unknown").dead shouldBe 1 }
                worker.stop()
                worker.metrics().unknownResults shouldBe 3
                queues.deadLetters("unknown").single().error shouldBe
                    "picket.mq.InvalidHandlerResultException: the handler of queue 'unknown' returned null for " +
                    "message '$id', not a HandlerResult (success, retry or failure)"
            }
        }
    })

/** How long the batching spec holds the master's writes (`CLIENT PAUSE … WRITE`). */
private const val PAUSE_MS = 500L
