package picket.bench

import picket.bench.BusBench.Companion.PICKET
import picket.bench.BusBench.Companion.PLAIN
import picket.bench.BusBench.Companion.REDISSON

/**
 * The bus section of the report: round-trip calls per second and p50/p99 latency of Picket's bus against a plain
 * request/reply loop on Lettuce (the reference) and Redisson's `RRemoteService`, every round, with the CPU per call
 * of the master and of the client's JVM.
 */
class BusReport(
    private val result: BusResult,
) {
    fun write(md: Markdown) {
        md.line(
            "## 8. RPC bus, one caller with ${result.concurrency} calls in flight and ${result.workers} workers, " +
                "master ${result.node}",
        )
        md.line()
        md.line(
            "Round trips: ${fmtOps(
                result.calls.toDouble(),
            )} calls of a method that returns its short string argument " +
                "(`v-<n>`), the caller keeping ${result.concurrency} in flight, timed from the first call to " +
                "the last answer; latency per call, from its start to its answer. *$PICKET*: a service `Bus` " +
                "(`register(EchoService::echo)`, `serve(concurrency = ${result.workers})`) and a caller `Bus`, each " +
                "on its own Picket, `call(String::class.java, \"bench_echo\", listOf(value))` (default settings: " +
                "deadlines, leases, lost-worker detection). *$PLAIN*: plain Lettuce; the caller LPUSHes " +
                "`<id>|<value>` and BLPOPs `reply:<id>` on one of ${result.concurrency} connections; " +
                "${result.workers} worker connections loop BRPOP and LPUSH the reply (no deadlines, no lost-worker " +
                "detection). *$REDISSON*: Redisson ${result.redisson}, `RRemoteService.register(Echo, impl, " +
                "${result.workers})`, called through an `@RRemoteAsync` interface with the default options (an " +
                "acknowledgement expected within 1 s, the result within 30 s). " +
                (
                    if (result.oneJvm) {
                        "The three clients share the benchmark's JVM (`--one-jvm`). "
                    } else {
                        "Each client runs in a JVM of its own (same heap, same classpath); its CPU is that JVM's. "
                    }
                ) +
                "Medians over the rounds; the order of the clients alternates per round; each client warmed up " +
                "for the same time first.",
        )
        md.line()
        md.againstPlainAndRedisson(
            "calls",
            listOf(PICKET, PLAIN, REDISSON).associateWith { median(rates(it)) },
        )
        latencyTable(md)
        roundsTable(md)
        md.line(
            "Commands per call on the master in the last round (`INFO commandstats`, the scripts' inner commands " +
                "included): " +
                listOf(PICKET, PLAIN, REDISSON).joinToString("; ") { client ->
                    "*$client*: " + (result.rounds.lastOrNull { it.client == client }?.commands ?: "–")
                } + ".",
        )
        md.line()
    }

    /** Medians over the rounds of each client's latencies and CPU per call. */
    private fun latencyTable(md: Markdown) {
        md.table(
            listOf("client", ">p50 ms", ">p99 ms", ">server CPU µs/call", ">client JVM CPU µs/call"),
            listOf(PICKET, PLAIN, REDISSON).map { client ->
                val rounds = result.rounds.filter { it.client == client }
                listOf(
                    client,
                    fmt2(median(rounds.map { it.p50Ms })),
                    fmt2(median(rounds.map { it.p99Ms })),
                    fmt(median(rounds.map { it.serverMicros })),
                    fmt(median(rounds.map { it.clientMicros })),
                )
            },
        )
    }

    private fun roundsTable(md: Markdown) {
        md.table(
            listOf(
                ">round",
                "client",
                ">calls/s",
                ">seconds",
                ">p50 ms",
                ">p99 ms",
                ">server CPU µs/call",
                ">client JVM CPU µs/call",
            ),
            result.rounds.map {
                listOf(
                    "${it.round}",
                    it.client,
                    fmtOps(it.perSecond),
                    fmt(it.seconds),
                    fmt2(it.p50Ms),
                    fmt2(it.p99Ms),
                    fmt(it.serverMicros),
                    fmt(it.clientMicros),
                )
            },
        )
    }

    private fun rates(client: String): List<Double> = result.rounds.filter { it.client == client }.map { it.perSecond }

    private fun fmt2(value: Double?): String = value?.let { String.format(java.util.Locale.ROOT, "%.2f", it) } ?: "–"
}
