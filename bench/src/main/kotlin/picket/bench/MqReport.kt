package picket.bench

import picket.bench.MqBench.Companion.PICKET
import picket.bench.MqBench.Companion.PLAIN
import picket.bench.MqBench.Companion.REDISSON
import java.time.Duration

/**
 * The queue section of the report: end-to-end messages per second of Picket's queue against a plain
 * LPUSH/BLMOVE/LREM loop (the reference) and Redisson's blocking queue in the same pattern, every round, and the
 * server's command rate of an idle worker.
 */
class MqReport(
    private val result: MqResult,
) {
    fun write(md: Markdown) {
        md.line(
            "## 7. Message queue, one producer and one consumer of ${result.handlers} handlers, master ${result.node}",
        )
        md.line()
        md.line(
            "End to end: ${fmtOps(result.messages.toDouble())} messages enqueued (the producer keeps " +
                "${result.handlers} in flight), handled and acknowledged, timed from the first enqueue to the last " +
                "acknowledgement. *$PICKET*: `picket.queues(spec)`, `enqueue` and a `worker` of ${result.handlers} " +
                "handlers (default `WorkerOptions` otherwise: leases, retries, Lua scripts on the master). " +
                "*$PLAIN*: plain Lettuce, LPUSH; ${result.handlers} connections each looping BLMOVE into a " +
                "processing list and LREM once handled (at-least-once, no leases, no retries). *$REDISSON*: Redisson " +
                "${result.redisson}, `RBlockingQueue.addAsync`; ${result.handlers} threads looping " +
                "`pollLastAndOfferFirstTo(processing)` and `RList.remove` (the same guarantee as the plain loop). " +
                where() + " Medians over the rounds, which alternate the clients' order, after " +
                "${result.warmup.seconds} s of uncounted passes of each client. CPU per message: the master's " +
                "`redis-server` (`INFO cpu`, user + system) and " +
                (if (result.oneJvm) "the benchmark's whole JVM" else "the client's own JVM") + ", every thread.",
        )
        md.line()
        md.againstPlainAndRedisson(
            "msg",
            listOf(PICKET, PLAIN, REDISSON).associateWith { median(rates(it)) },
        )
        md.line()
        roundsTable(md)
        md.line()
        md.line(
            "Idle worker (${result.handlers} handlers, default idle backoff 50 ms doubling to 2 s): the master " +
                "served ${fmt(result.idleBaseline)} commands/s without it (the sentinels' PING and INFO) and " +
                "${fmt(result.idleWithWorker)} with it, over ${seconds(result.idleWindow)} s and " +
                "${seconds(result.idleWorkerWindow)} s; the worker's " +
                "window counted ${result.idleWorkerCalls}.",
        )
        md.line()
    }

    private fun where(): String =
        if (result.oneJvm) {
            "The three clients share the benchmark's JVM (`--one-jvm`), each warmed up in turn before the rounds."
        } else {
            "Each client runs in a JVM of its own (same heap, same classpath), started and warmed up before the " +
                "rounds."
        }

    private fun roundsTable(md: Markdown) {
        md.table(
            listOf(">round", "client", ">msg/s", ">seconds", ">server CPU µs/msg", ">client JVM CPU µs/msg"),
            result.rounds.map {
                listOf(
                    "${it.round}",
                    it.client,
                    fmtOps(it.perSecond),
                    fmt(it.seconds),
                    fmt(it.serverMicros),
                    fmt(it.clientMicros),
                )
            },
        )
    }

    private fun rates(client: String): List<Double> = result.rounds.filter { it.client == client }.map { it.perSecond }

    private fun seconds(window: Duration): String = fmt(window.toMillis() / MS_PER_SECOND)

    private companion object {
        const val MS_PER_SECOND = 1000.0
    }
}
