package picket.bench

import java.util.Locale

/** The monitor benchmark's section of the report: INFO age, CPU and server cost against a plain Lettuce loop. */
class MonitorReport(
    private val result: MonitorResult,
) {
    fun write(md: Markdown) {
        val interval = result.interval.toMillis()
        md.line(
            "## 7. INFO monitor, ${result.nodes} redis-server nodes on loopback, one INFO per node every $interval ms",
        )
        md.line()
        md.line(
            "*${Report.PICKET_MONITOR}* is `Monitor(picket, listOf(NodeWatcher.of(nodes)), " +
                "MonitorOptions(minInterval = maxInterval = $interval ms, maxConcurrentPolls = ${result.nodes}))`: " +
                "one coroutine and one connection per node, `INFO everything` parsed into typed fields at each " +
                "poll. *${Report.LETTUCE_INFO_LOOP}* is one Lettuce connection and one coroutine per node sending " +
                "`INFO all` every $interval ms, nothing parsed. Each measurement runs " +
                "${result.duration.toSeconds()} s after a 3 s warm-up; the INFO age of every node is sampled every " +
                "100 ms (percentiles by nearest rank over all samples of all rounds); CPU is the benchmark " +
                "process's CPU time over wall time (1.00 = one core; the idle JVM, nothing polling, used " +
                "${fmt3(result.idleCpuShare)}); server commands are the growth of `total_commands_processed` over " +
                "the ${result.nodes} nodes per second (idle: ${fmt1(result.idleServerCommandsPerSecond)}).",
        )
        md.line()
        md.table(
            listOf(
                "client",
                ">INFO age p50 (ms)",
                ">p99 (ms)",
                ">max (ms)",
                ">CPU (cores), median",
                ">server commands/s, median",
            ),
            listOf(Report.PICKET_MONITOR, Report.LETTUCE_INFO_LOOP).map { client ->
                val rounds = result.rounds.filter { it.client == client }
                val ages = rounds.flatMap { it.agesMs }
                listOf(
                    client,
                    fmt0(percentile(ages, P50)),
                    fmt0(percentile(ages, P99)),
                    fmt0(ages.maxOrNull()),
                    fmt3(median(rounds.map { it.cpuShare })),
                    fmt1(median(rounds.map { it.serverCommandsPerSecond })),
                )
            },
        )
        md.line("Every round (odd rounds run Picket first):")
        md.line()
        md.table(
            listOf("round", "client", ">INFO age p99 (ms)", ">CPU (cores)", ">server commands/s"),
            result.rounds.map {
                listOf(
                    "${it.round}",
                    it.client,
                    fmt0(percentile(it.agesMs, P99)),
                    fmt3(it.cpuShare),
                    fmt1(it.serverCommandsPerSecond),
                )
            },
        )
    }

    private fun fmt0(value: Double?): String = value?.let { String.format(Locale.ROOT, "%.0f", it) } ?: "–"

    private fun fmt1(value: Double?): String = value?.let { String.format(Locale.ROOT, "%.1f", it) } ?: "–"

    private fun fmt3(value: Double?): String = value?.let { String.format(Locale.ROOT, "%.3f", it) } ?: "–"

    private companion object {
        const val P50 = 0.50
        const val P99 = 0.99
    }
}
