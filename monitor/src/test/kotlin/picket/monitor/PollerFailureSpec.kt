package picket.monitor

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import picket.core.Picket
import java.io.ByteArrayOutputStream
import java.io.OutputStream
import java.io.PrintStream
import java.net.ServerSocket
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * A node that refuses connections (a closed port on loopback: the real kernel's answer), polled by a real monitor:
 * the capped backoff, the quiet-then-loud logging, and the events flow completing on close. No topology.
 */
class PollerFailureSpec :
    FunSpec({
        val picket = Picket()
        afterSpec { picket.close() }

        test(
            "a refused node is retried after the cool-off doubled per failure, capped; logged quietly until the " +
                "grace count, then a warning at it and every grace count more; the events flow completes on close",
        ) {
            val port = ServerSocket(0).use { it.localPort }
            val node = MonitoredNode.of("127.0.0.1:$port")
            val options =
                MonitorOptions(
                    minInterval = Duration.ofMillis(200),
                    maxInterval = Duration.ofSeconds(1),
                    failureGrace = 2,
                    coolOff = Duration.ofMillis(200),
                    maxBackoff = Duration.ofSeconds(1),
                )
            val captured = StderrCapture.start()
            val monitor = Monitor(picket, listOf(NodeWatcher.of(listOf(node))), options) {}
            val events = async { monitor.events.toList() }
            // The first time each failure count is seen: when, and the wait the poller chose after it.
            val seen = LinkedHashMap<Int, Pair<Long, Duration?>>()
            try {
                withTimeout(15.seconds) {
                    while (seen.size < 6) {
                        val state = monitor.state(node.id)
                        if (state != null && state.consecutiveFailures > 0) {
                            seen.putIfAbsent(state.consecutiveFailures, System.nanoTime() to state.retryIn)
                        }
                        delay(5)
                    }
                }
                val counts = seen.keys.toList().take(6)
                counts shouldBe (1..6).toList()
                // The cool-off (200 ms) doubled per consecutive failure, capped at maxBackoff (1 s).
                counts.map { seen.getValue(it).second?.toMillis() } shouldBe
                    listOf(200L, 400L, 800L, 1_000L, 1_000L, 1_000L)
                // And it waits that long: each next failure comes no sooner (minus the sampling), and not much later
                // (a refused connect is immediate; the bound is for a loaded machine).
                counts.zipWithNext().forEach { (k, next) ->
                    val gap = Duration.ofNanos(seen.getValue(next).first - seen.getValue(k).first)
                    val wait = seen.getValue(k).second!!
                    gap shouldBeGreaterThan wait - Duration.ofMillis(100)
                    gap shouldBeLessThan wait + Duration.ofMillis(1_500)
                }
                // Quiet below the grace count (debug, not shown at the specs' info level); a warning when declared
                // down at 2, then one at every 2 more.
                val warned =
                    withTimeout(5.seconds) {
                        var lines: List<Int>
                        do {
                            lines = captured.warningCounts(node.id)
                            delay(20)
                        } while (lines.size < 3)
                        lines
                    }
                warned.take(3) shouldBe listOf(2, 4, 6)
                captured.lines().any { "node ${node.id} is down: 2 polls failed in a row" in it } shouldBe true
                monitor.state(node.id)!!.down shouldBe true
            } finally {
                captured.stop()
                monitor.close()
            }
            // Closing the monitor completes the flow, after the events emitted before.
            val received = withTimeout(5.seconds) { events.await() }
            received.filterIsInstance<MonitorEvent.NodeDown>().map { it.node } shouldContain node
            withTimeout(5.seconds) { monitor.events.toList() } shouldBe emptyList()
        }
    })

/** Tees the standard error stream (where slf4j-simple writes, looking it up at each line) into a buffer. */
private class StderrCapture private constructor(
    private val original: PrintStream,
) {
    private val buffer = ByteArrayOutputStream()

    fun lines(): List<String> = synchronized(buffer) { buffer.toString(Charsets.UTF_8) }.lines()

    /** The failure counts of the warnings logged about [id], in order. */
    fun warningCounts(id: String): List<Int> =
        lines()
            .filter { " WARN " in it && "node $id " in it }
            .mapNotNull {
                COUNT
                    .find(it)
                    ?.groupValues
                    ?.get(1)
                    ?.toInt()
            }

    fun stop() {
        System.setErr(original)
    }

    companion object {
        private val COUNT = Regex("(\\d+) polls failed in a row")

        fun start(): StderrCapture {
            val capture = StderrCapture(System.err)
            val tee =
                object : OutputStream() {
                    override fun write(b: Int) {
                        capture.original.write(b)
                        synchronized(capture.buffer) { capture.buffer.write(b) }
                    }

                    override fun write(
                        b: ByteArray,
                        off: Int,
                        len: Int,
                    ) {
                        capture.original.write(b, off, len)
                        synchronized(capture.buffer) { capture.buffer.write(b, off, len) }
                    }
                }
            System.setErr(PrintStream(tee, true, Charsets.UTF_8))
            return capture
        }
    }
}
