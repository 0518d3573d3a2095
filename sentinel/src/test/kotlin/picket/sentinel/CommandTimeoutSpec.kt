package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.RedisCommandTimeoutException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import picket.core.ConnSpec
import picket.core.FailoverOutcome
import picket.core.Picket
import picket.core.PicketEvent
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import kotlin.time.Duration.Companion.seconds

/**
 * The spec's command timeout holds for every caller of a hung master (SIGSTOP: the socket stays open, nothing
 * answers), suspend and blocking alike: the slowest caller fails within the timeout plus 50 ms.
 */
class CommandTimeoutSpec :
    FunSpec({
        // down-after 30 s: the pauses here never start a failover.
        val topology =
            install(TopologyExtension()) {
                masterNames = listOf("hung")
                replicasPerMaster = 1
                downAfter = Duration.ofSeconds(30)
            }
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val timeout = Duration.ofSeconds(1)
        val spec = ConnSpec(sentinelGroup = "main", masterName = "hung", commandTimeout = timeout)

        /** One call's outcome: how long it took and what it threw. */
        class Call(
            val kind: String,
            val millis: Long,
            val error: Throwable?,
            /** From the call to the block's start: what the caller waited before its command was sent. */
            val toBlock: Long,
            /** From the command's call to its failure, inside the block. */
            val inCommand: Long,
            /** From the command's failure inside the block to the caller's return. */
            val afterBlock: Long,
        )

        /** Times of one call (System.nanoTime): its start, the block's start, the command's end, its return. */
        class Marks {
            val start = System.nanoTime()
            var entered = 0L
            var left = 0L

            fun <T> command(call: () -> T): T {
                entered = System.nanoTime()
                try {
                    return call()
                } finally {
                    left = System.nanoTime()
                }
            }

            fun call(
                kind: String,
                error: Throwable?,
            ): Call {
                val end = System.nanoTime()
                return Call(kind, ms(end - start), error, ms(entered - start), ms(left - entered), ms(end - left))
            }

            private fun ms(nanos: Long) = nanos / 1_000_000
        }

        /**
         * [CALLERS] suspend and [CALLERS] blocking callers of one GET each, each timed from its call to its return.
         * Caller `i` of each kind starts `2 i` ms after the first, so that their deadlines fall across a whole
         * 100 ms tick of Lettuce's default timer: with that timer some of them fail about 100 ms late on every run,
         * not only on runs whose commands happen to fall early in a tick.
         */
        suspend fun round(threads: ExecutorService): List<Call> {
            val ready = CountDownLatch(1)
            val go = CompletableDeferred<Unit>()
            return coroutineScope {
                val suspending =
                    (0 until CALLERS).map { i ->
                        async(Dispatchers.Default) {
                            go.await()
                            // The caller's start offset (see above), not a wait for a condition.
                            delay(STAGGER_MS * i)
                            val marks = Marks()
                            val error =
                                runCatching {
                                    picket.withConn(spec) {
                                        marks.entered = System.nanoTime()
                                        try {
                                            get("k")
                                        } finally {
                                            marks.left = System.nanoTime()
                                        }
                                    }
                                }
                            marks.call("suspend", error.exceptionOrNull())
                        }
                    }
                val blocking =
                    (0 until CALLERS).map { i ->
                        CompletableFuture.supplyAsync({
                            ready.await()
                            Thread.sleep(STAGGER_MS * i)
                            val marks = Marks()
                            val error =
                                runCatching { picket.blocking().withConn(spec) { marks.command { it.get("k") } } }
                            marks.call("blocking", error.exceptionOrNull())
                        }, threads)
                    }
                ready.countDown()
                go.complete(Unit)
                suspending.awaitAll() + blocking.map { it.await() }
            }
        }

        fun report(
            what: String,
            calls: List<Call>,
        ) {
            for (kind in listOf("suspend", "blocking")) {
                val millis = calls.filter { it.kind == kind }.map { it.millis }.sorted()
                val ofKind = calls.filter { it.kind == kind }
                println(
                    "SPECFIG $kind callers, $what: min ${millis.first()} ms, median ${millis[millis.size / 2]} ms, " +
                        "max ${millis.last()} ms; slowest: to the block ${ofKind.maxOf { it.toBlock }} ms, " +
                        "command ${ofKind.maxOf { it.inCommand }} ms, " +
                        "after the block ${ofKind.maxOf { it.afterBlock }} ms",
                )
            }
        }

        test("50 suspend and 50 blocking callers of a hung master fail within the timeout plus 50 ms").config(
            timeout = 60.seconds,
        ) {
            picket.withConn(spec) { set("k", "v") } shouldBe "OK"
            val master = topology.awaitMaster("hung")
            val threads = Executors.newFixedThreadPool(CALLERS)
            try {
                // The same callers on the healthy master first, as an application at work has run them before.
                val healthy = round(threads)
                report("healthy master", healthy)
                healthy.mapNotNull { it.error } shouldBe emptyList()
                topology.pause(master)
                val calls =
                    try {
                        round(threads)
                    } finally {
                        topology.resume(master)
                    }
                report("hung master, ${timeout.toMillis()} ms timeout", calls)
                calls shouldHaveSize 2 * CALLERS
                calls.forEach { call ->
                    // The timeout surfaces as Lettuce's own RedisCommandTimeoutException, unchanged.
                    val error = call.error.shouldBeInstanceOf<RedisCommandTimeoutException>()
                    error.message shouldContain "Command timed out after 1 second(s)"
                }
                // The timeout itself (command sent to failure) holds within 50 ms; the whole call also has the hops to
                // and from the block, which a loaded 2-core machine can stretch: bounded apart, looser.
                calls.maxOf { it.inCommand } shouldBeLessThanOrEqual timeout.toMillis() + 50
                calls.maxOf { it.millis } shouldBeLessThanOrEqual timeout.toMillis() + 150
            } finally {
                threads.shutdown()
            }
            // The master answers again, on the same connection.
            picket.withConn(spec) { get("k") } shouldBe "v"
        }

        test("blocks parked longer than their command timeout run on the new master once the failover ends").config(
            timeout = 120.seconds,
        ) {
            val log = EventLog(picket)
            val old = topology.awaitMaster("hung")
            val candidate = topology.dataNodes("hung").single { it != old }
            // The candidate stops the moment the failover's leader selects it (the listener runs as the event
            // arrives), so Sentinel confirms the promotion only after it is resumed: the parking outlasts the 1 s
            // command timeout by design, as a slow promotion does.
            val pauser =
                picket.registerListener { event ->
                    if (event is PicketEvent.FailoverStarted && event.masterName == "hung") topology.pause(candidate)
                }
            try {
                coroutineScope {
                    val loops = (1..WRITERS).map { WriteLoop(picket, spec, this, prefix = "p$it:") }
                    within(5) { loops.forEach { loop -> loop.writes.count { it.acknowledged } shouldBeGreaterThan 10 } }
                    log.clear()
                    topology.failover("hung")
                    val started = log.await<PicketEvent.FailoverStarted>(seconds = 10) { it.masterName == "hung" }
                    started.candidate shouldBe candidate.asAddress
                    // How long the fault lasts, not a wait for a condition.
                    delay(PROMOTION_STALL_MS)
                    topology.resume(candidate)
                    val ended = log.await<PicketEvent.FailoverEnded>(seconds = 15) { it.masterName == "hung" }
                    within(10) {
                        loops.forEach { loop ->
                            loop.writes.count { it.acknowledged && it.issued.isAfter(ended.at) } shouldBeGreaterThan 10
                        }
                    }
                    loops.forEach { it.stop() }

                    ended.outcome shouldBe FailoverOutcome.SWITCHED
                    ended.newAddress shouldBe candidate.asAddress
                    ended.parkedFor shouldBeGreaterThan Duration.ofMillis(PROMOTION_STALL_MS)
                    ended.parkedBlocks shouldBeGreaterThanOrEqual WRITERS
                    val writes = loops.flatMap { loop -> loop.writes.map { loop.prefix to it } }
                    // Every block succeeded: none failed with FailoverInProgressException or timed out.
                    writes.mapNotNull { (_, write) -> write.error } shouldBe emptyList()
                    // The writes parked longer than the command timeout ran on the new master, after the switch.
                    val parked = writes.filter { (_, write) -> write.millis > timeout.toMillis() }
                    println(
                        "SPECFIG parking ${ended.parkedFor.toMillis()} ms, ${ended.parkedBlocks} blocks parked, " +
                            "${parked.size} writes took longer than the ${timeout.toMillis()} ms command timeout " +
                            "(longest ${parked.maxOf { it.second.millis }} ms), ${writes.size} writes, no error",
                    )
                    parked.size shouldBeGreaterThanOrEqual WRITERS
                    val keys = parked.map { (prefix, write) -> "$prefix${write.n}" }
                    Inspect.on(candidate) { redis -> redis.mget(*keys.toTypedArray()) }.count { it.hasValue() } shouldBe
                        keys.size
                    Inspect.on(old) { redis -> redis.mget(*keys.toTypedArray()) }.count { it.hasValue() } shouldBe 0
                }
            } finally {
                pauser.close()
                if (candidate.isPaused) topology.resume(candidate)
                log.close()
            }
            topology.awaitMaster("hung") shouldBe candidate
        }
    }) {
    private companion object {
        const val CALLERS = 50

        /** Between the starts of two callers of a kind: 50 callers span 100 ms, one tick of Lettuce's timer. */
        const val STAGGER_MS = 2L

        /** Concurrent write loops across the failover: each has one block parked. */
        const val WRITERS = 10

        /** How long the promoted replica stays stopped: the parking lasts at least that. */
        const val PROMOTION_STALL_MS = 1_500L
    }
}
