package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
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
import kotlinx.coroutines.future.await
import picket.core.ConnSpec
import picket.sentinel.testing.sentinelGroup
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
        )


        /**
         * [CALLERS] suspend and [CALLERS] blocking callers of one GET each, started together (the commands meet on
         * the master together), each timed from its call to its return.
         */
        suspend fun round(threads: ExecutorService): List<Call> {
            val ready = CountDownLatch(1)
            val go = CompletableDeferred<Unit>()
            return coroutineScope {
                val suspending =
                    (1..CALLERS).map {
                        async(Dispatchers.Default) {
                            go.await()
                            val start = System.nanoTime()
                            var entered = 0L
                            val error =
                                runCatching {
                                    picket.withConn(spec) {
                                        entered = System.nanoTime()
                                        get("k")
                                    }
                                }
                            Call("suspend", millisSince(start), error.exceptionOrNull(), (entered - start) / 1_000_000)
                        }
                    }
                val blocking =
                    (1..CALLERS).map {
                        CompletableFuture.supplyAsync({
                            ready.await()
                            val start = System.nanoTime()
                            var entered = 0L
                            val error =
                                runCatching {
                                    picket.withConnBlocking(spec) {
                                        entered = System.nanoTime()
                                        it.get("k")
                                    }
                                }
                            Call("blocking", millisSince(start), error.exceptionOrNull(), (entered - start) / 1_000_000)
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
                val toBlock = calls.filter { it.kind == kind }.maxOf { it.toBlock }
                println(
                    "SPECFIG $kind callers, $what: min ${millis.first()} ms, median ${millis[millis.size / 2]} ms, " +
                        "max ${millis.last()} ms; slowest start of a block $toBlock ms",
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
                calls.maxOf { it.millis } shouldBeLessThanOrEqual timeout.toMillis() + 50
            } finally {
                threads.shutdown()
            }
            // The master answers again, on the same connection.
            picket.withConn(spec) { get("k") } shouldBe "v"
        }
    }) {
    private companion object {
        const val CALLERS = 50

        fun millisSince(start: Long): Long = (System.nanoTime() - start) / 1_000_000
    }
}
