package picket.bench

/** "Every run" of the failover section: per run, the announcements and the settling; per client, every figure. */
internal class FailoverRunsTable(
    private val runs: List<FailoverRun>,
) {
    fun write(md: Markdown) {
        md.line("### Every run")
        md.line()
        md.line(
            "Per run: when the first `+switch-master` came after the fault and from which sentinel, how much " +
                "later the last sentinel published it, when the topology had settled (from the fault) and how long " +
                "the sentinels then took to fall quiet. Per client: as above (old-master writes acknowledged after " +
                "the switch, how many of them were also issued after it, when the last was acknowledged), plus the " +
                "writes issued, the slowest write, how long a write was still pending when the loop stopped, when " +
                "the client's own SwitchMaster event came and what it acted on (ms after the first `+switch-master`; " +
                "negative: before the benchmark's subscription saw the announcement), the failovers it parked " +
                "blocks for (FailoverEnded: blocks parked, for how long, how it ended, and when, in ms after the " +
                "fault), and how many times it asked the sentinels (resolution rounds).",
        )
        md.line()
        md.table(
            listOf(
                ">run",
                "fault",
                ">+switch-master (ms after the fault)",
                "first sentinel; last later by (ms)",
                "settled (ms after the fault); quiet (ms more)",
                "client",
                ">first write executed by the new master (ms after the fault)",
                ">first write on the new master (ms after +switch-master)",
                "old master after switch (writes); last one (ms after +switch-master)",
                ">lost (writes)",
                "errors (failed writes, by type)",
                ">writes",
                ">slowest write (ms)",
                ">pending at the end (ms)",
                "client's switch event (ms after +switch-master, via)",
                "parked (blocks, ms, outcome, ended ms after the fault)",
                ">resolutions (rounds)",
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
        val parked =
            c.picket
                ?.parkings
                ?.joinToString("; ") {
                    "${it.blocks}, ${fmt(it.parkedForMs)}, ${it.outcome}, ${fmt(it.endedMs)}"
                }?.ifEmpty { "none" } ?: "–"
        return listOf(
            "${run.index}",
            run.fault.name.lowercase(),
            fmt(run.faultToSwitchMs),
            "${run.firstSentinel}; ${fmt(run.lastSwitchMs)}",
            "${fmt(run.settledMs)}; $quiet",
            c.client,
            if (run.directKnown) fmt(c.faultToNewMs) else "not measured",
            fmt(c.switchMs),
            "${c.oldMaster.afterSwitch} (issued after: ${c.oldMaster.issuedAfterSwitch}); " +
                fmt(c.oldMaster.lastAckMs),
            "${c.lost}",
            "${c.errors}" + if (types.isEmpty()) "" else " ($types)",
            "${c.writes}",
            fmt(c.slowestWriteMs),
            if (c.pendingAtStopMs >= 1) fmt(c.pendingAtStopMs) else "–",
            c.picket?.switchEvent?.let { "${fmt(it.ms)}, ${it.via}" } ?: "–",
            parked,
            c.picket?.resolutionRounds?.toString() ?: "–",
        )
    }
}
