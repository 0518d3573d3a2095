package picket.bench

import picket.bench.JavaPathBench.Companion.PICKET_JAVA
import picket.bench.Report.LETTUCE_MR
import picket.bench.Report.PICKET_DEFAULT
import picket.bench.Report.PICKET_DURABLE
import picket.bench.Report.PICKET_NO_PARKING

/** The targets of the failover section: each with its median, then the worst run, and whether it was met. */
internal class FailoverTargets(
    private val report: FailoverReport,
    private val faults: List<Fault>,
) {
    private val picketClients = listOf(PICKET_DEFAULT, PICKET_NO_PARKING, PICKET_DURABLE, PICKET_JAVA)

    fun write(md: Markdown) {
        md.line("Targets (the median first, then the worst run):")
        md.line()
        md.table(listOf("target", "fault", "measured", "met"), faults.flatMap { targetRows(it) })
    }

    private fun targetRows(fault: Fault): List<List<String>> {
        val rows = mutableListOf<List<String>>()
        if (fault == Fault.MANUAL) rows += faultToNewTarget(fault)
        rows += switchTarget(fault)
        for (client in picketClients) {
            val old = report.clientRuns(fault, client).map { it.oldMaster }
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
        val durable = report.clientRuns(fault, PICKET_DURABLE).map { it.lost }
        rows +=
            listOf(
                "$PICKET_DURABLE: 0 acknowledged writes lost",
                fault.label,
                "${fmt(median(durable.map { it.toDouble() }))}; ${durable.maxOrNull()}",
                yes(durable.all { it == 0 }),
            )
        val picketLost = report.lostMedian(fault, PICKET_DEFAULT)
        val lettuceLost = report.lostMedian(fault, LETTUCE_MR)
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
        val measured = report.measuredRuns(fault, PICKET_DEFAULT).map { it.second.faultToNewMs }
        val (med, atLeast) = report.faultToNewMedian(fault, PICKET_DEFAULT)
        val worst = worst(measured)
        val notMeasured = report.runsOf(fault, PICKET_DEFAULT).size - measured.size
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
        val switch = report.clientRuns(fault, PICKET_DEFAULT).map { it.switchMs }
        val (med, atLeast) = report.switchMedian(fault, PICKET_DEFAULT)
        val worst = worst(switch)
        return listOf(
            "$PICKET_DEFAULT: first write on the new master ≤ ${fmt(Report.SWITCH_TARGET_MS)} ms after " +
                "+switch-master (negative: before it)",
            fault.label,
            "${if (atLeast) "> " else ""}${fmt(med)}; $worst",
            yes(!atLeast && within(med, Report.SWITCH_TARGET_MS)),
        )
    }
}

/** The loss target's text, as the side-by-side table and the targets show it. */
internal fun lossTarget(): String = "$PICKET_DEFAULT ≥ ${fmt(Report.LOSS_FACTOR_TARGET)}× fewer than Lettuce"

/** Whether Picket default lost at least the target factor fewer writes than Lettuce. */
internal fun lossMet(
    picket: Double?,
    lettuce: Double?,
): String =
    when {
        picket == null || lettuce == null -> "n/a"
        lettuce == 0.0 && picket == 0.0 -> "n/a: neither lost any"
        else -> yes(picket * Report.LOSS_FACTOR_TARGET <= lettuce)
    }

/** Lettuce's lost writes per Picket default's: "0 vs N" rather than a division by zero. */
internal fun lossRatio(
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
internal fun worst(values: List<Double?>): String {
    val none = values.count { it == null }
    return if (none > 0) "none in $none runs" else fmt(values.filterNotNull().maxOrNull())
}

/** Whether [value] is known and at most [limit]. */
internal fun within(
    value: Double?,
    limit: Double,
): Boolean = value != null && value <= limit
