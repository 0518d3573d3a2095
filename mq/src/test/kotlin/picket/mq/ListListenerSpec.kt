package picket.mq

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.codec.ByteArrayCodec
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.NodeConnectionException
import picket.core.Picket
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.net.ServerSocket
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

/** The list listener on a real topology, fed by plain LPUSH from another client. */
class ListListenerSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val picket = Picket()
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = TopologyConfig.DEFAULT_MASTER_NAME)
        afterSpec { picket.close() }

        // Producers push with redis-cli where the machine has one (next to redis-server or on the PATH): the
        // embedded-redis artifact ships only redis-server, and then a plain Lettuce client pushes instead.
        println(
            redisCli?.let { "LPUSH with $it" }
                ?: "no redis-cli next to redis-server nor on the PATH: LPUSH with Lettuce",
        )

        fun lpush(
            list: String,
            vararg messages: String,
        ) = lpush(topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME), list, *messages)

        fun llen(list: String) =
            Inspect.on(topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)) { it.llen(list) }

        test("messages pushed with redis-cli LPUSH are handled in order and leave the processing list") {
            withTimeout(30.seconds) {
                val seen = CopyOnWriteArrayList<String>()
                val listener = ListListener(picket, spec, "jobs") { m -> m.also { seen += it } }
                coroutineScope {
                    val job = launch { listener.listen() }
                    lpush("jobs", *(1..100).map { "job-$it" }.toTypedArray()) shouldBe 100L
                    within(10) { seen shouldHaveSize 100 }
                    listener.stop()
                    job.join()
                }
                seen shouldContainExactly (1..100).map { "job-$it" }
                llen("jobs") shouldBe 0
                llen("jobs:processing") shouldBe 0
            }
        }

        test("getMessage returns a message or null at once; a Redis error is a typed error, not null") {
            withTimeout(30.seconds) {
                val listener = ListListener(picket, spec, "polled")
                val began = System.nanoTime()
                listener.getMessage().shouldBeNull()
                Duration.ofNanos(System.nanoTime() - began) shouldBeLessThan Duration.ofMillis(500)
                lpush("polled", "first", "second")
                listener.getMessage() shouldBe "first"
                listener.getMessage() shouldBe "second"
                listener.getMessage().shouldBeNull()
                llen("polled:processing") shouldBe 0

                val port = ServerSocket(0).use { it.localPort }
                val nowhere = ListListener(picket, ConnSpec(host = "127.0.0.1", port = port), "polled")
                shouldThrow<NodeConnectionException> { nowhere.getMessage() }.message!! shouldStartWith
                    "cannot connect to 127.0.0.1:$port for 127.0.0.1:$port"
            }
        }

        test("a listener killed mid-message leaves it in the processing list; the next one handles it first") {
            withTimeout(30.seconds) {
                val taken = CompletableDeferred<String>()
                val first = ListListener(picket, spec, "crash") { m -> taken.complete(m).let { awaitCancellation() } }
                coroutineScope {
                    val job = launch { first.listen() }
                    lpush("crash", "half-done")
                    taken.await() shouldBe "half-done"
                    job.cancelAndJoin()
                }
                Inspect.on(
                    topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME),
                ) { it.lrange("crash:processing", 0, -1) } shouldBe
                    listOf("half-done")
                lpush("crash", "next")

                val seen = CopyOnWriteArrayList<String>()
                val events = CopyOnWriteArrayList<ListEvent>()
                val second =
                    ListListener(picket, spec, "crash", ListListenerOptions(onEvent = { events += it })) { m ->
                        m.also { seen += it }
                    }
                coroutineScope {
                    val job = launch { second.listen() }
                    within(10) { seen shouldHaveSize 2 }
                    second.stop()
                    job.join()
                }
                seen shouldContainExactly listOf("half-done", "next")
                events.filterIsInstance<ListEvent.Recovered>() shouldContainExactly listOf(ListEvent.Recovered(1))
                llen("crash:processing") shouldBe 0
                Inspect.on(topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME)) {
                    it.exists(second.attemptsHash)
                } shouldBe 0L
            }
        }

        test("a message that kills its listener every time is dead-lettered after maxAttempts runs, across restarts") {
            withTimeout(30.seconds) {
                val master = { topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME) }
                lpush("deadly", "kills its listener")
                val events = CopyOnWriteArrayList<ListEvent>()
                var runs = 0
                repeat(4) { restart ->
                    val running = CompletableDeferred<Unit>()
                    val options = ListListenerOptions(onEvent = { events += it }).retries(3, Duration.ofMillis(10))
                    val listener =
                        ListListener(picket, spec, "deadly", options) { _ ->
                            runs++
                            running.complete(Unit)
                            awaitCancellation() // the process dies mid-message
                        }
                    coroutineScope {
                        val job = launch { listener.listen() }
                        if (restart < 3) {
                            running.await()
                            job.cancelAndJoin()
                            // The interrupted runs are counted on the master, next to the processing list.
                            Inspect.on(master()) { it.hget(listener.attemptsHash, "kills its listener") } shouldBe
                                restart.takeIf { it > 0 }?.toString()
                        } else {
                            within(10) { llen("deadly:dead") shouldBe 1 }
                            listener.stop()
                            job.join()
                        }
                    }
                }
                runs shouldBe 3 // the fourth listener dead-lettered it without running it again
                val dead = events.filterIsInstance<ListEvent.DeadLettered>().single()
                dead.attempts shouldBe 3
                dead.error.message shouldBe
                    "its handling was interrupted 3 times (the listener crashed, was stopped or lost Redis mid-message)"
                llen("deadly:processing") shouldBe 0
                Inspect.on(master()) { it.exists("deadly:processing:attempts") } shouldBe 0L
            }
        }

        test("a handler that throws: the message is kept, retried, then dead-lettered") {
            withTimeout(30.seconds) {
                val events = CopyOnWriteArrayList<ListEvent>()
                val runs = CopyOnWriteArrayList<String>()
                val options =
                    ListListenerOptions(onEvent = { events += it }).retries(3, Duration.ofMillis(50))
                val listener =
                    ListListener(picket, spec, "poison", options) { m ->
                        runs += m
                        require(m != "bad") { "cannot handle $m" }
                        m
                    }
                coroutineScope {
                    val job = launch { listener.listen() }
                    lpush("poison", "bad", "good")
                    within(10) { runs.count { it == "good" } shouldBe 1 }
                    listener.stop()
                    job.join()
                }
                runs shouldContainExactly listOf("bad", "bad", "bad", "good")
                events.filterIsInstance<ListEvent.Retrying>().map { it.attempt to it.backoff.toMillis() } shouldBe
                    listOf(1 to 50L, 2 to 100L)
                val dead = events.filterIsInstance<ListEvent.DeadLettered>().single()
                dead.attempts shouldBe 3
                dead.error.message shouldBe "cannot handle bad"
                Inspect.on(
                    topology.currentMaster(TopologyConfig.DEFAULT_MASTER_NAME),
                ) { it.lrange("poison:dead", 0, -1) } shouldBe
                    listOf("bad")
                llen("poison:processing") shouldBe 0

                lpush("poison", "bad")
                val e = shouldThrow<MessageDeadLetteredException> { listener.getMessage() }
                e.message shouldBe
                    "the handler of list 'poison' failed 3 times; the message was moved to 'poison:dead': " +
                    "IllegalArgumentException: cannot handle bad"
                e.cause.shouldBeInstanceOf<IllegalArgumentException>()
                llen("poison:dead") shouldBe 2
            }
        }

        test("values that are not UTF-8 are handled once, removed exactly, retried and dead-lettered byte for byte") {
            withTimeout(30.seconds) {
                // Another client pushes binary values: every byte value, and one that fails its handler.
                val binary = ByteArray(256) { it.toByte() }
                val poison = byteArrayOf(0xff.toByte(), 0xfe.toByte(), 0, 0x80.toByte())
                val key = "binary".toByteArray()
                picket.withConn(spec, ByteArrayCodec.INSTANCE) { lpush(key, binary, poison) } shouldBe 2L
                val runs = CopyOnWriteArrayList<String>()
                val options = ListListenerOptions().retries(2, Duration.ofMillis(20))
                val listener =
                    ListListener(picket, spec, "binary", options) { m ->
                        runs += m
                        require(m.first() == '\u0000') { "not the binary one" }
                        "handled ${m.length}"
                    }
                // Handled once and removed: LREM of the bytes LPUSH stored, which the decoded text would not match.
                listener.getMessage() shouldBe "handled ${String(binary, Charsets.UTF_8).length}"
                shouldThrow<MessageDeadLetteredException> { listener.getMessage() }
                runs shouldHaveSize 3
                listener.getMessage() shouldBe null
                llen("binary:processing") shouldBe 0
                picket.withConn(spec, ByteArrayCodec.INSTANCE) {
                    val dead = lrange("binary:dead".toByteArray(), 0, -1).orEmpty()
                    dead.map { it.toList() } shouldBe listOf(poison.toList())
                    hlen("binary:processing:attempts".toByteArray())
                } shouldBe 0L
                listener.recover() shouldBe 0
            }
        }

        test("a handler's own timeout (a CancellationException) is retried; listen goes on") {
            withTimeout(30.seconds) {
                val runs = CopyOnWriteArrayList<String>()
                val options = ListListenerOptions().retries(3, Duration.ofMillis(10))
                val listener =
                    ListListener(picket, spec, "own-timeout", options) { m ->
                        runs += m
                        if (runs.size == 1) withTimeout(10) { awaitCancellation() }
                        m
                    }
                coroutineScope {
                    val job = launch { listener.listen() }
                    lpush("own-timeout", "once slow", "next")
                    within(10) { runs.count { it == "next" } shouldBe 1 }
                    listener.stop()
                    job.join()
                }
                runs shouldContainExactly listOf("once slow", "once slow", "next")
                llen("own-timeout:processing") shouldBe 0
            }
        }

        test("stop ends listen within the read time") {
            withTimeout(30.seconds) {
                val listener =
                    ListListener(picket, spec, "quiet", ListListenerOptions(readTime = Duration.ofMillis(500)))
                coroutineScope {
                    val job = launch { listener.listen() }
                    delay(700)
                    listener.isListening shouldBe true
                    val stopped = System.nanoTime()
                    listener.stop()
                    job.join()
                    val took = Duration.ofNanos(System.nanoTime() - stopped)
                    println("listen() returned ${took.toMillis()} ms after stop() (read time 500 ms)")
                    // The read in progress ends by its own timeout (at most 500 ms); the margin is for a loaded
                    // machine, and still far below the command timeout that an unbounded read would run into.
                    took shouldBeLessThan Duration.ofMillis(1_000)
                }
            }
        }

        test("stop before listen: listen returns at once without reading, and a stopped listener stays stopped") {
            withTimeout(30.seconds) {
                lpush("early", "untouched")
                val heard = CopyOnWriteArrayList<String>()
                val listener = ListListener(picket, spec, "early") { m -> m.also { heard += it } }
                listener.stop()
                val began = System.nanoTime()
                listener.listen()
                Duration.ofNanos(System.nanoTime() - began) shouldBeLessThan Duration.ofMillis(500)
                listener.listen() // again: still stopped
                listener.isListening shouldBe false
                heard shouldBe emptyList()
                llen("early") shouldBe 1
                llen("early:processing") shouldBe 0
            }
        }

        test("while Redis is down, start-up recovery backs off instead of spinning") {
            withTimeout(30.seconds) {
                val port = ServerSocket(0).use { it.localPort }
                val events = CopyOnWriteArrayList<ListEvent>()
                val options = ListListenerOptions(reconnectMax = Duration.ofMillis(800), onEvent = { events += it })
                val listener = ListListener(picket, ConnSpec(host = "127.0.0.1", port = port), "down", options)
                coroutineScope {
                    val job = launch { listener.listen() }
                    delay(2_000)
                    listener.stop()
                    job.join()
                }
                val failed = events.filterIsInstance<ListEvent.ConnectionFailed>()
                // 100, 200, 400, 800, 800 ms: about 5 attempts in 2 s, not thousands.
                failed.size shouldBeInRange 3..7
                failed.map { it.retryIn.toMillis() }.take(4) shouldBe listOf(100L, 200L, 400L, 800L)
                failed.first().cause.shouldBeInstanceOf<NodeConnectionException>()
            }
        }

        test("registerListener and events hear each event before the listener goes on; a closed handle hears none") {
            withTimeout(30.seconds) {
                val fromStart = CopyOnWriteArrayList<ListEvent>()
                val options = ListListenerOptions(onEvent = { fromStart += it }).retries(2, Duration.ofMillis(10))
                val listener = ListListener(picket, spec, "evs", options) { m -> m.also { error("no $m") } }
                val registered = CopyOnWriteArrayList<ListEvent>()
                val handle = listener.registerListener { registered += it }
                val collected = CopyOnWriteArrayList<ListEvent>()
                coroutineScope {
                    val collecting = launch { listener.events.collect { collected += it } }
                    // Once the collector has heard a dead letter, it is registered.
                    within(10) {
                        lpush("evs", "probe")
                        shouldThrow<MessageDeadLetteredException> { listener.getMessage() }
                        collected.filterIsInstance<ListEvent.DeadLettered>().shouldNotBeEmpty()
                    }
                    // The flow's buffer may still hold the probes' events: let it catch up before starting afresh.
                    within(10) { collected.last() shouldBe registered.last() }
                    listOf(fromStart, registered, collected).forEach { it.clear() }
                    lpush("evs", "bad-1")
                    shouldThrow<MessageDeadLetteredException> { listener.getMessage() }
                    val told = listOf("Retrying bad-1 1", "DeadLettered bad-1 2")
                    // Told on the listener's coroutine before getMessage went on: nothing to wait for.
                    registered.map(::describe) shouldBe told
                    fromStart.map(::describe) shouldBe told
                    within(10) { collected.map(::describe) shouldBe told }

                    handle.close()
                    lpush("evs", "bad-2")
                    shouldThrow<MessageDeadLetteredException> { listener.getMessage() }
                    registered.map(::describe) shouldBe told
                    fromStart.map(::describe) shouldBe told + listOf("Retrying bad-2 1", "DeadLettered bad-2 2")
                    collecting.cancelAndJoin()
                }
            }
        }

        test("the old names compile and are told the same events: onSignal, ListSignalListener, ListSignal.*") {
            withTimeout(30.seconds) {
                val old = CopyOnWriteArrayList<String>()

                @Suppress("DEPRECATION")
                val byName =
                    ListListenerOptions(onSignal = {
                        if (it is ListSignal.DeadLettered) {
                            old +=
                                "name ${it.message}"
                        }
                    })

                @Suppress("DEPRECATION")
                val byMember =
                    ListListenerOptions().onSignal(
                        ListSignalListener { signal: ListSignal ->
                            if (signal is ListSignal.Retrying) old += "member ${signal.message}"
                        },
                    )
                listOf(byName, byMember).forEach { options ->
                    val listener =
                        ListListener(picket, spec, "old", options.retries(2, Duration.ofMillis(10))) { m ->
                            m.also { error("no $m") }
                        }
                    lpush("old", "m")
                    shouldThrow<MessageDeadLetteredException> { listener.getMessage() }
                }
                old shouldBe listOf("name m", "member m")
            }
        }

        test("bad input gives typed errors") {
            shouldThrow<InvalidSpecException> { ListListener(picket, spec, " ") }.message shouldBe "list name is blank"
            shouldThrow<InvalidSpecException> {
                ListListener(picket, spec.copy(commandTimeout = Duration.ofSeconds(1)), "l")
            }.message shouldBe
                "list listener readTime 1000 ms must be below the spec's commandTimeout 1000 ms, or every idle read " +
                "would time out"
            shouldThrow<InvalidSpecException> { ListListenerOptions(maxAttempts = 0) }.message shouldBe
                "list listener maxAttempts is 0, must be >= 1"
        }
    })

/** An event in a few words: its kind, message and attempt(s). */
private fun describe(event: ListEvent): String =
    when (event) {
        is ListEvent.Retrying -> "Retrying ${event.message} ${event.attempt}"
        is ListEvent.DeadLettered -> "DeadLettered ${event.message} ${event.attempts}"
        else -> event.toString()
    }
