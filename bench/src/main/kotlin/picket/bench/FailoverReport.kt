package picket.bench

import picket.bench.JavaPathBench.Companion.JEDIS
import picket.bench.JavaPathBench.Companion.PICKET_JAVA
import picket.bench.Report.LETTUCE_MR
import picket.bench.Report.PICKET_DEFAULT
import picket.bench.Report.PICKET_DURABLE
import picket.bench.Report.PICKET_NO_PARKING

/** The failover section of the report: medians, side-by-side figures, targets, every run, what callers were told. */
class FailoverReport(
    private val runs: List<FailoverRun>,
    private val settings: Settings,
) {
    private val clients = listOf(PICKET_DEFAULT, PICKET_NO_PARKING, PICKET_DURABLE, LETTUCE_MR, PICKET_JAVA, JEDIS)
    private val picketClients = listOf(PICKET_DEFAULT, PICKET_NO_PARKING, PICKET_DURABLE, PICKET_JAVA)
    private val faults = Fault.entries.filter { fault -> runs.any { it.fault == fault } }
    private val window = settings.afterSwitch.toMillis().toDouble()

    fun write(md: Markdown) {
        md.line("## 1. Failovers under a write loop")
        md.line()
        md.line(
            "Medians over ${settings.failoverRuns} runs of each kind. Six clients write side by side, each with its " +
                "own instance and loop: *$PICKET_DEFAULT* (new master blocks are parked from the failover leader's " +
                "`+selected-slave` until the switch), *$PICKET_NO_PARKING* (its sentinel group with " +
                "`parking(false)`), *$PICKET_DURABLE* (parking on, `Durability.allReplicas`), *$LETTUCE_MR*, and " +
                "for Java callers (issue 22) *$PICKET_JAVA* (as Picket default, each write by a blocked thread " +
                "through the Java path) and *$JEDIS* (one pooled connection). A " +
                "write is on the new master iff its key is there once the topology has settled; an acknowledged " +
                "write whose key is absent was executed by the old master and lost.",
        )
        md.line()
        md.line(
            "*First write executed by the new master* is in ms after the fault (`SENTINEL FAILOVER` sent, or the " +
                "master killed): the first acknowledged write the new master executed itself, not one it got from " +
                "the old master by replication. After a manual failover that is a write whose key is on the new " +
                "master but was not on the old master when the old master was read right after the loops stopped " +
                "(it is converted, and resyncs everything, only about 10 s after the command; a run where it was " +
                "already converted is not measured); after a kill -9, a write on the new master acknowledged after " +
                "the old master's process had exited. *First write on the new master* is the same write in ms after " +
                "the first `+switch-master` any sentinel published. It is negative when the client switched before " +
                "that announcement (Picket acts on the leader's `+promoted-slave`, confirmed with ROLE, slightly " +
                "before the other sentinels announce `+switch-master`); negative values are shown, not dropped. " +
                "\"> N\" means no such write before the loops stopped, N ms after the fault (first write executed) " +
                "or ${fmt(window)} ms after `+switch-master`. \"Last write on the old master\" is when the last of " +
                "the lost writes was acknowledged, in ms after `+switch-master` (median over the runs that had any).",
        )
        md.line()
        medians(md)
        lost(md)
        firstExecuted(md)
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
     * The median time to the first write on the new master after `+switch-master`, counting runs where none came
     * within the window as infinitely late; the flag says the median is such a run, and the value is then the window
     * (a lower bound).
     */
    fun switchMedian(
        fault: Fault,
        client: String,
    ): Pair<Double?, Boolean> {
        val m = median(clientRuns(fault, client).map { it.switchMs ?: Double.POSITIVE_INFINITY })
        return if (m != null && m.isInfinite()) window to true else m to false
    }

    /**
     * The median time from the fault to the first write the new master executed itself, over the runs where that
     * could be told ([FailoverRun.directKnown]); runs where none came before the loops stopped count as infinitely
     * late. The flag says the median is such a run, and the value is then the earliest of their stops (a lower bound).
     */
    fun faultToNewMedian(
        fault: Fault,
        client: String,
    ): Pair<Double?, Boolean> {
        val measured = measuredRuns(fault, client)
        val m = median(measured.map { it.second.faultToNewMs ?: Double.POSITIVE_INFINITY })
        if (m == null || !m.isInfinite()) return m to false
        return measured.filter { it.second.faultToNewMs == null }.minOf { it.first.stoppedMs } to true
    }

    fun clientRuns(
        fault: Fault,
        client: String,
    ): List<ClientRun> = runsOf(fault, client).map { it.second }

    /** Each run of [fault] with [client]'s figures in it. */
    private fun runsOf(
        fault: Fault,
        client: String,
    ): List<Pair<FailoverRun, ClientRun>> =
        runs.filter { it.fault == fault }.flatMap { run ->
            run.clients.filter { it.client == client }.map { run to it }
        }

    private fun measuredRuns(
        fault: Fault,
        client: String,
    ): List<Pair<FailoverRun, ClientRun>> = runsOf(fault, client).filter { it.first.directKnown }

    private fun lostMedian(
        fault: Fault,
        client: String,
    ): Double? = median(fault, client) { it.lost.toDouble() }

    private fun switchFigure(
        fault: Fault,
        client: String,
    ): String {
        val (value, atLeast) = switchMedian(fault, client)
        val notSeen = clientRuns(fault, client).count { it.switchMs == null }
        return (if (atLeast) "> " else "") + fmt(value) +
            (if (notSeen > 0) " (none in $notSeen of ${clientRuns(fault, client).size} runs)" else "")
    }

    private fun faultToNewFigure(
        fault: Fault,
        client: String,
    ): String {
        val (value, atLeast) = faultToNewMedian(fault, client)
        val measured = measuredRuns(fault, client)
        val notSeen = measured.count { it.second.faultToNewMs == null }
        val notMeasured = runsOf(fault, client).size - measured.size
        return (if (atLeast) "> " else "") + fmt(value) +
            (if (notSeen > 0) " (none in $notSeen of ${measured.size} runs)" else "") +
            (if (notMeasured > 0) " (not measured in $notMeasured runs)" else "")
    }

    private fun medians(md: Markdown) {
        md.table(
            listOf(
                "fault",
                "client",
                ">first write executed by the new master (ms after the fault)",
                ">first write on the new master (ms after +switch-master)",
                ">writes to the old master after the switch (writes)",
                ">last write on the old master (ms after +switch-master)",
                ">acknowledged writes lost (writes)",
                ">errors seen by callers (failed writes)",
            ),
            faults.flatMap { fault ->
                clients.map { client ->
                    listOf(
                        fault.label,
                        client,
                        faultToNewFigure(fault, client),
                        switchFigure(fault, client),
                        fmt(median(fault, client) { it.oldMaster.afterSwitch.toDouble() }),
                        fmt(median(clientRuns(fault, client).mapNotNull { it.oldMaster.lastAckMs })),
                        fmt(lostMedian(fault, client)),
                        fmt(median(fault, client) { it.errors.toDouble() }),
                    )
                }
            },
        )
    }

    /** A client's column header in the side-by-side tables. */
    private fun column(client: String): String = if (client == PICKET_DEFAULT) ">$client (parking)" else ">$client"

    private fun lost(md: Markdown) {
        md.line("Acknowledged writes lost per failover, medians side by side (writes):")
        md.line()
        md.table(
            listOf("fault") + clients.map { column(it) } +
                listOf(">$LETTUCE_MR / $PICKET_DEFAULT", "target", "met"),
            faults.map { fault ->
                val picket = lostMedian(fault, PICKET_DEFAULT)
                val lettuce = lostMedian(fault, LETTUCE_MR)
                listOf(fault.label) + clients.map { fmt(lostMedian(fault, it)) } +
                    listOf(lossRatio(lettuce, picket), lossTarget(), lossMet(picket, lettuce))
            },
        )
    }

    private fun firstExecuted(md: Markdown) {
        md.line("First write executed by the new master, medians side by side (ms after the fault):")
        md.line()
        md.table(
            listOf("fault") + clients.map { column(it) } +
                listOf(">$LETTUCE_MR / $PICKET_DEFAULT", "target", "met"),
            faults.map { fault ->
                val (picket, picketAtLeast) = faultToNewMedian(fault, PICKET_DEFAULT)
                val (lettuce, lettuceAtLeast) = faultToNewMedian(fault, LETTUCE_MR)
                val ratio =
                    if (picketAtLeast) "n/a" else (if (lettuceAtLeast) "> " else "") + times(lettuce, picket)
                // Only a manual failover has a target: after a kill -9 the sentinels first wait for down-after.
                val manual = fault == Fault.MANUAL
                val target = if (manual) "$PICKET_DEFAULT ≤ ${fmt(Report.FAULT_TO_NEW_TARGET_MS)}" else "–"
                val met = if (manual) yes(!picketAtLeast && within(picket, Report.FAULT_TO_NEW_TARGET_MS)) else "–"
                listOf(fault.label) + clients.map { faultToNewFigure(fault, it) } + listOf(ratio, target, met)
            },
        )
    }

    private fun lossTarget(): String = "$PICKET_DEFAULT ≥ ${fmt(Report.LOSS_FACTOR_TARGET)}× fewer than Lettuce"

    private fun lossMet(
        picket: Double?,
        lettuce: Double?,
    ): String =
        when {
            picket == null || lettuce == null -> "n/a"
            lettuce == 0.0 && picket == 0.0 -> "n/a: neither lost any"
            else -> yes(picket * Report.LOSS_FACTOR_TARGET <= lettuce)
        }

    private fun targets(md: Markdown) {
        md.line("Targets (the median first, then the worst run):")
        md.line()
        md.table(listOf("target", "fault", "measured", "met"), faults.flatMap { targetRows(it) })
    }

    private fun targetRows(fault: Fault): List<List<String>> {
        val rows = mutableListOf<List<String>>()
        if (fault == Fault.MANUAL) rows += faultToNewTarget(fault)
        rows += switchTarget(fault)
        for (client in picketClients) {
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
                "$PICKET_DURABLE: 0 acknowledged writes lost",
                fault.label,
                "${fmt(median(durable.map { it.toDouble() }))}; ${durable.maxOrNull()}",
                yes(durable.all { it == 0 }),
            )
        val picketLost = lostMedian(fault, PICKET_DEFAULT)
        val lettuceLost = lostMedian(fault, LETTUCE_MR)
        val lossText =
            if (picketLost == 0.0 && lettuceLost != null && lettuceLost > 0) {
                lossRatio(lettuceLost, picketLost)
            } else {
                "${fmt(picketLost)} vs ${fmt(lettuceLost)} (${lossRatio(lettuceLost, picketLost)})"
            }
        rows +=
            listOf(
                "$PICKET_DEFAULT: ≥ ${fmt(Report.LOSS_FACTOR_TARGET)}× fewer acknowledged writes lost than Lettuce",
                fault.label,
                lossText,
                lossMet(picketLost, lettuceLost),
            )
        return rows
    }

    private fun faultToNewTarget(fault: Fault): List<String> {
        val measured = measuredRuns(fault, PICKET_DEFAULT).map { it.second.faultToNewMs }
        val (med, atLeast) = faultToNewMedian(fault, PICKET_DEFAULT)
        val worst = worst(measured)
        val notMeasured = runsOf(fault, PICKET_DEFAULT).size - measured.size
        return listOf(
            "$PICKET_DEFAULT: first write executed by the new master ≤ ${fmt(Report.FAULT_TO_NEW_TARGET_MS)} ms " +
                "after SENTINEL FAILOVER (Lettuce measured about 5.1 s)",
            fault.label,
            "${if (atLeast) "> " else ""}${fmt(med)}; $worst" +
                if (notMeasured > 0) " (not measured in $notMeasured runs)" else "",
            yes(!atLeast && within(med, Report.FAULT_TO_NEW_TARGET_MS)),
        )
    }

    private fun switchTarget(fault: Fault): List<String> {
        val switch = clientRuns(fault, PICKET_DEFAULT).map { it.switchMs }
        val (med, atLeast) = switchMedian(fault, PICKET_DEFAULT)
        val worst = worst(switch)
        return listOf(
            "$PICKET_DEFAULT: first write on the new master ≤ ${fmt(Report.SWITCH_TARGET_MS)} ms after " +
                "+switch-master (negative: before it)",
            fault.label,
            "${if (atLeast) "> " else ""}${fmt(med)}; $worst",
            yes(!atLeast && within(med, Report.SWITCH_TARGET_MS)),
        )
    }

    private fun raw(md: Markdown) {
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

/** Lettuce's lost writes per Picket default's: "0 vs N" rather than a division by zero. */
private fun lossRatio(
    lettuce: Double?,
    picket: Double?,
): String =
    when {
        lettuce == null || picket == null -> "n/a"
        picket == 0.0 && lettuce == 0.0 -> "both 0"
        picket == 0.0 -> "0 vs ${fmt(lettuce)}"
        else -> times(lettuce, picket)
    }

/** The largest of [values] (the worst run), or how many runs had none. */
private fun worst(values: List<Double?>): String {
    val none = values.count { it == null }
    return if (none > 0) "none in $none runs" else fmt(values.filterNotNull().maxOrNull())
}

/** Whether [value] is known and at most [limit]. */
private fun within(
    value: Double?,
    limit: Double,
): Boolean = value != null && value <= limit
