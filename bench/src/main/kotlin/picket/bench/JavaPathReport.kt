package picket.bench

import picket.bench.JavaPathBench.Companion.JEDIS
import picket.bench.JavaPathBench.Companion.LETTUCE_SYNC
import picket.bench.JavaPathBench.Companion.PICKET_JAVA

/** The Java-path benchmark's section of the report: medians, ratios to Lettuce sync, pinning, every round. */
class JavaPathReport(
    private val result: JavaPathResult,
    private val settings: Settings,
) {
    private val clients = listOf(PICKET_JAVA, LETTUCE_SYNC, JEDIS)

    fun write(md: Markdown) {
        md.line("## The Java path (issue 22), master ${result.node}")
        md.line()
        md.line(
            "Each client in a JVM of its own, its caller threads doing SET (then, measured apart, GET) on their own " +
                "keys without pause: *$PICKET_JAVA* (Picket's Java blocking path, Lettuce's synchronous commands " +
                "inside), *$LETTUCE_SYNC* (a sentinel URI, `ReadFrom.UPSTREAM`, one multiplexed connection) and " +
                "*$JEDIS* (one pooled connection per caller thread). Medians over the rounds; ratios are to Lettuce " +
                "sync, of the medians and the median of each round's. Targets (issue 22, reported, not asserted): " +
                "Picket ≥ $TARGET of Lettuce sync, and ahead of Jedis. ${settings.javaRounds} rounds of " +
                "${settings.roundDuration.toMillis()} ms (after ${settings.roundWarmup.toMillis()} ms uncounted), " +
                "${settings.warmup.toMillis()} ms warm-up per client and operation first.",
        )
        md.line()
        result.modes.forEach { mode(md, it) }
        everyRound(md)
    }

    private fun mode(
        md: Markdown,
        mode: JavaPathMode,
    ) {
        val threads = "${mode.threads} ${if (mode.virtual) "virtual" else "platform"} threads"
        md.line("### $threads")
        md.line()
        if (mode.skipped != null) {
            md.line("Not run: ${mode.skipped}.")
            md.line()
            return
        }
        md.line("On ${mode.java}.")
        md.line()
        md.table(
            listOf(
                "operation",
                ">$PICKET_JAVA (ops/s)",
                ">$LETTUCE_SYNC (ops/s)",
                ">$JEDIS (ops/s)",
                ">Picket / Lettuce sync",
                ">median of the round ratios",
                ">Jedis / Lettuce sync",
                "Picket ≥ $TARGET",
                "Picket ahead of Jedis",
            ),
            Op.entries.map { op ->
                val picket = medianOps(mode, op, PICKET_JAVA)
                val lettuce = medianOps(mode, op, LETTUCE_SYNC)
                val jedis = medianOps(mode, op, JEDIS)
                val ratio = ratio(picket, lettuce)
                listOf(
                    "$op",
                    fmtOps(picket),
                    fmtOps(lettuce),
                    fmtOps(jedis),
                    fmtRatio(ratio),
                    fmtRatio(median(roundRatios(mode, op, PICKET_JAVA))),
                    fmtRatio(ratio(jedis, lettuce)),
                    yes(ratio != null && ratio >= TARGET),
                    yes(picket != null && jedis != null && picket > jedis),
                )
            },
        )
        if (mode.virtual) pinning(md, mode)
    }

    private fun pinning(
        md: Markdown,
        mode: JavaPathMode,
    ) {
        md.line(
            "Pinned virtual threads: JFR's `jdk.VirtualThreadPinned` events (threshold 0 ms) over each client JVM's " +
                "whole life (set-up, warm-up and every round):",
        )
        md.line()
        md.table(
            listOf("client", ">events", ">pinned in all (ms)", ">longest (ms)"),
            clients.map { client ->
                val pinned = mode.pinned[client]
                listOf(
                    client,
                    pinned?.events?.toString() ?: "not read",
                    fmt(pinned?.totalMs),
                    fmt(pinned?.longestMs),
                )
            },
        )
    }

    private fun everyRound(md: Markdown) {
        md.line(
            "Every round (ops/s; odd rounds run the clients in the order of the columns, even rounds in reverse):",
        )
        md.line()
        md.table(
            listOf(">threads", ">round", "operation") + clients.map { ">$it" } +
                listOf(">Picket / Lettuce sync", ">Jedis / Lettuce sync"),
            result.modes.flatMap { mode ->
                mode.rounds.groupBy { it.round to it.op }.map { (key, rounds) ->
                    fun ops(client: String) = rounds.firstOrNull { it.client == client }?.opsPerSecond
                    listOf(
                        "${mode.threads} ${if (mode.virtual) "virtual" else "platform"}",
                        "${key.first}",
                        "${key.second}",
                    ) + clients.map { fmtOps(ops(it)) } +
                        listOf(
                            fmtRatio(ratio(ops(PICKET_JAVA), ops(LETTUCE_SYNC))),
                            fmtRatio(ratio(ops(JEDIS), ops(LETTUCE_SYNC))),
                        )
                }
            },
        )
    }

    /** [client] / Lettuce sync of each round of [op] in [mode]. */
    fun roundRatios(
        mode: JavaPathMode,
        op: Op,
        client: String,
    ): List<Double> =
        mode.rounds
            .filter { it.op == op }
            .groupBy { it.round }
            .values
            .mapNotNull { rounds ->
                ratio(
                    rounds.firstOrNull { it.client == client }?.opsPerSecond,
                    rounds.firstOrNull { it.client == LETTUCE_SYNC }?.opsPerSecond,
                )
            }

    /** Median ops/s of [client] for [op] in [mode]. */
    fun medianOps(
        mode: JavaPathMode,
        op: Op,
        client: String,
    ): Double? = median(mode.rounds.filter { it.op == op && it.client == client }.map { it.opsPerSecond })

    private fun ratio(
        numerator: Double?,
        denominator: Double?,
    ): Double? = if (numerator != null && denominator != null && denominator > 0) numerator / denominator else null

    companion object {
        /** Picket's Java path / Lettuce sync: at least this (issue 22). */
        const val TARGET = 0.9
    }
}
