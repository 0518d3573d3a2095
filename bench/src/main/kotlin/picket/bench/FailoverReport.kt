package picket.bench

import picket.bench.Report.LETTUCE_MR
import picket.bench.Report.PICKET_DEFAULT
import picket.bench.Report.PICKET_DURABLE

/** The failover section of the report: medians, ratios, targets, every run, and what callers were told. */
class FailoverReport(
    private val runs: List<FailoverRun>,
    private val settings: Settings,
) {
    private val clients = listOf(PICKET_DEFAULT, PICKET_DURABLE, LETTUCE_MR)
    private val faults = Fault.entries.filter { fault -> runs.any { it.fault == fault } }
    private val window = settings.afterSwitch.toMillis().toDouble()

    fun write(md: Markdown) {
        md.line("## 1. Failovers under a write loop")
        md.line()
        md.line(
            "Medians over ${settings.failoverRuns} runs of each kind. Times are ms after the first `+switch-master` " +
                "any sentinel published; \"> ${fmt(window)}\" means no write reached the new master before the loops " +
                "stopped, ${fmt(window)} ms after it. A write is on the new master iff its key is there once the " +
                "topology has settled; an acknowledged write whose key is absent was executed by the old master and " +
                "lost. \"Last write on the old master\" is when the last of those was acknowledged (median over the " +
                "runs that had any).",
        )
        md.line()
        medians(md)
        ratios(md)
        targets(md)
        raw(md)
        errors(md)
    }

    /** Median of one figure over the runs of [fault] for [client]. */
    fun median(
        fault: Fault,
        client: String,
        figure: (ClientRun) -> Double,
    ): Double? = median(clientRuns(fault, client).map(figure))

    /**
     * The median time to the first write on the new master, counting runs where none came within the window as
     * infinitely late; the flag says the median is such a run, and the value is then the window (a lower bound).
     */
    fun switchMedian(
        fault: Fault,
        client: String,
    ): Pair<Double?, Boolean> {
        val m = median(clientRuns(fault, client).map { it.switchMs ?: Double.POSITIVE_INFINITY })
        return if (m != null && m.isInfinite()) window to true else m to false
    }

    fun clientRuns(
        fault: Fault,
        client: String,
    ): List<ClientRun> = runs.filter { it.fault == fault }.flatMap { run -> run.clients.filter { it.client == client } }

    private fun switchFigure(
        fault: Fault,
        client: String,
    ): String {
        val (value, atLeast) = switchMedian(fault, client)
        val notSeen = clientRuns(fault, client).count { it.switchMs == null }
        return (if (atLeast) "> " else "") + fmt(value) +
            (if (notSeen > 0) " (none in $notSeen of ${clientRuns(fault, client).size} runs)" else "")
    }

    private fun medians(md: Markdown) {
        md.table(
            listOf(
                "fault",
                "client",
                ">first write on the new master (ms)",
                ">writes to the old master after the switch",
                ">last write on the old master (ms)",
                ">acknowledged writes lost",
                ">errors seen by callers",
            ),
            faults.flatMap { fault ->
                clients.map { client ->
                    listOf(
                        fault.label,
                        client,
                        switchFigure(fault, client),
                        fmt(median(fault, client) { it.oldMaster.afterSwitch.toDouble() }),
                        fmt(median(clientRuns(fault, client).mapNotNull { it.oldMaster.lastAckMs })),
                        fmt(median(fault, client) { it.lost.toDouble() }),
                        fmt(median(fault, client) { it.errors.toDouble() }),
                    )
                }
            },
        )
    }

    private fun ratios(md: Markdown) {
        md.line("Ratios of the medians, Lettuce MasterReplica / Picket default:")
        md.line()
        md.table(
            listOf("fault", ">first write on the new master", ">acknowledged writes lost"),
            faults.map { fault ->
                val (lettuce, atLeast) = switchMedian(fault, LETTUCE_MR)
                val switch = times(lettuce, switchMedian(fault, PICKET_DEFAULT).first)
                val lost = times(median(fault, LETTUCE_MR) { it.lost.toDouble() }, lostMedian(fault, PICKET_DEFAULT))
                listOf(fault.label, (if (atLeast) "> " else "") + switch, lost)
            },
        )
    }

    private fun lostMedian(
        fault: Fault,
        client: String,
    ): Double? = median(fault, client) { it.lost.toDouble() }

    private fun targets(md: Markdown) {
        md.line("Targets (the median first, then the worst run):")
        md.line()
        md.table(listOf("target", "fault", "measured", "met"), faults.flatMap { targetRows(it) })
    }

    private fun targetRows(fault: Fault): List<List<String>> {
        val rows = mutableListOf<List<String>>()
        val switch = clientRuns(fault, PICKET_DEFAULT).map { it.switchMs }
        val (med, atLeast) = switchMedian(fault, PICKET_DEFAULT)
        val worst =
            if (switch.any { it == null }) {
                "none in ${switch.count { it == null }} runs"
            } else {
                fmt(
                    switch.maxOf { it!! },
                )
            }
        rows +=
            listOf(
                "Picket default: first write on the new master ≤ ${fmt(
                    Report.SWITCH_TARGET_MS,
                )} ms after +switch-master",
                fault.label,
                "${if (atLeast) "> " else ""}${fmt(med)}; $worst",
                yes(!atLeast && med != null && med <= Report.SWITCH_TARGET_MS),
            )
        for (client in listOf(PICKET_DEFAULT, PICKET_DURABLE)) {
            val old = clientRuns(fault, client).map { it.oldMaster }
            val issued = old.maxOfOrNull { it.issuedAfterSwitch }
            rows +=
                listOf(
                    "$client: 0 writes to the old master after the switch",
                    fault.label,
                    "${fmt(median(old.map { it.afterSwitch.toDouble() }))}; ${old.maxOfOrNull { it.afterSwitch }} " +
                        "(issued after the switch: at most $issued)",
                    yes(old.all { it.afterSwitch == 0 }),
                )
        }
        val durable = clientRuns(fault, PICKET_DURABLE).map { it.lost }
        rows +=
            listOf(
                "Picket durable: 0 acknowledged writes lost",
                fault.label,
                "${fmt(median(durable.map { it.toDouble() }))}; ${durable.maxOrNull()}",
                yes(durable.all { it == 0 }),
            )
        val picketLost = lostMedian(fault, PICKET_DEFAULT)
        val lettuceLost = lostMedian(fault, LETTUCE_MR)
        rows +=
            listOf(
                "Picket default: ≥ ${fmt(Report.LOSS_FACTOR_TARGET)}× fewer acknowledged writes lost than Lettuce",
                fault.label,
                "${fmt(picketLost)} vs ${fmt(lettuceLost)} (${times(lettuceLost, picketLost)})",
                when {
                    picketLost == null || lettuceLost == null -> "n/a"
                    lettuceLost == 0.0 && picketLost == 0.0 -> "n/a: neither lost any"
                    else -> yes(picketLost * Report.LOSS_FACTOR_TARGET <= lettuceLost)
                },
            )
        return rows
    }

    private fun raw(md: Markdown) {
        md.line("### Every run")
        md.line()
        md.line(
            "Per run: when the first `+switch-master` came after the fault and from which sentinel, how much " +
                "later the last sentinel published it, when the topology had settled (from the fault) and how long " +
                "the sentinels then took to fall quiet. Per client: as above (old-master writes acknowledged after " +
                "the switch, how many of them were also issued after it, when the last was acknowledged), plus the " +
                "writes issued, the slowest " +
                "write, how long a write was still pending when the loop stopped, when the client's own SwitchMaster " +
                "event came and what it acted on (negative: before the benchmark's subscription saw the " +
                "announcement), and how many times it asked the sentinels (resolution rounds).",
        )
        md.line()
        md.table(
            listOf(
                ">run",
                "fault",
                ">+switch-master (ms)",
                "first sentinel; last later by (ms)",
                "settled; quiet (ms)",
                "client",
                ">first write on new master (ms)",
                "old master after switch; last one (ms)",
                ">lost",
                "errors (types)",
                ">writes",
                ">slowest write (ms)",
                ">pending at the end (ms)",
                "client's switch event (ms, via)",
                ">resolutions",
            ),
            runs.sortedWith(compareBy({ it.fault }, { it.index })).flatMap { run ->
                run.clients.map { rawRow(run, it) }
            },
        )
        runs.filter { it.note != null }.forEach { md.line("- run ${it.index}, ${it.fault.label}: ${it.note}") }
    }

    private fun rawRow(
        run: FailoverRun,
        c: ClientRun,
    ): List<String> {
        val types = c.errorTypes.entries.joinToString(", ") { "${it.key} ${it.value}" }
        val quiet =
            when {
                run.quietMs == 0.0 -> "last run, not waited for"
                run.quiet -> fmt(run.quietMs)
                else -> "${fmt(run.quietMs)}, not quiet"
            }
        return listOf(
            "${run.index}",
            run.fault.name.lowercase(),
            fmt(run.faultToSwitchMs),
            "${run.firstSentinel}; ${fmt(run.lastSwitchMs)}",
            "${fmt(run.settledMs)}; $quiet",
            c.client,
            fmt(c.switchMs),
            "${c.oldMaster.afterSwitch} (issued after: ${c.oldMaster.issuedAfterSwitch}); ${fmt(
                c.oldMaster.lastAckMs,
            )}",
            "${c.lost}",
            "${c.errors}" + if (types.isEmpty()) "" else " ($types)",
            "${c.writes}",
            fmt(c.slowestWriteMs),
            if (c.pendingAtStopMs >= 1) fmt(c.pendingAtStopMs) else "–",
            c.clientEvent?.let { "${fmt(it.ms)}, ${it.via}" } ?: "–",
            c.resolutionRounds?.toString() ?: "–",
        )
    }

    private fun errors(md: Markdown) {
        md.line("What callers were told (the first message of each error class, per fault and client):")
        md.line()
        val rows =
            faults.flatMap { fault ->
                clients.flatMap { client ->
                    val samples = sortedMapOf<String, String>()
                    clientRuns(fault, client).forEach { c ->
                        c.sampleErrors.forEach { (k, v) -> samples.putIfAbsent(k, v) }
                    }
                    samples.map { (type, message) -> listOf(fault.label, client, type, message) }
                }
            }
        md.table(listOf("fault", "client", "error", "message"), rows)
    }
}
