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
        FailoverTargets(this, faults).write(md)
        FailoverRunsTable(runs).write(md)
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
    internal fun runsOf(
        fault: Fault,
        client: String,
    ): List<Pair<FailoverRun, ClientRun>> =
        runs.filter { it.fault == fault }.flatMap { run ->
            run.clients.filter { it.client == client }.map { run to it }
        }

    internal fun measuredRuns(
        fault: Fault,
        client: String,
    ): List<Pair<FailoverRun, ClientRun>> = runsOf(fault, client).filter { it.first.directKnown }

    internal fun lostMedian(
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
