package picket.bench

import java.util.Locale

/** A Markdown document under construction: lines and tables. */
class Markdown {
    private val text = StringBuilder()

    fun line(value: String = "") {
        text.append(value).append('\n')
    }

    /**
     * A table with [headers]; a header starting with `>` is right-aligned (the `>` is dropped). Cells have `|` escaped
     * and line breaks removed.
     */
    fun table(
        headers: List<String>,
        rows: List<List<String>>,
    ) {
        line("| " + headers.joinToString(" | ") { it.removePrefix(">") } + " |")
        line("| " + headers.joinToString(" | ") { if (it.startsWith(">")) "---:" else "---" } + " |")
        rows.forEach { row -> line("| " + row.joinToString(" | ") { cell(it) } + " |") }
        line()
    }

    private fun cell(value: String): String = value.replace("|", "\\|").replace("\n", " ")

    override fun toString(): String = text.toString()
}

/** A figure for a table: whole numbers without decimals, others with one; "–" for none. */
fun fmt(value: Double?): String =
    when {
        value == null -> "–"
        value == Math.rint(value) -> String.format(Locale.ROOT, "%.0f", value)
        else -> String.format(Locale.ROOT, "%.1f", value)
    }

/** Operations per second, with thousands separators. */
fun fmtOps(value: Double?): String = value?.let { String.format(Locale.ROOT, "%,.0f", it) } ?: "–"

/** A ratio with two decimals. */
fun fmtRatio(value: Double?): String = value?.let { String.format(Locale.ROOT, "%.2f", it) } ?: "–"

/** How many times [numerator] is [denominator], for "×" columns. */
fun times(
    numerator: Double?,
    denominator: Double?,
): String =
    when {
        numerator == null || denominator == null -> "n/a"
        denominator == 0.0 && numerator == 0.0 -> "both 0"
        denominator == 0.0 -> "∞ (Picket 0)"
        else -> String.format(Locale.ROOT, "%.1f×", numerator / denominator)
    }

fun yes(met: Boolean): String = if (met) "yes" else "**no**"

/** How many times [numerator] is [denominator]; null without both or when [denominator] is not positive. */
fun ratioOf(
    numerator: Double?,
    denominator: Double?,
): Double? = if (numerator != null && denominator != null && denominator > 0) numerator / denominator else null

/**
 * The summary table of a benchmark that sets Picket against a plain loop (target: at least [PLAIN_TARGET] of it) and
 * against Redisson (target: ahead): the medians of [rates], keyed by client name in the order Picket, plain,
 * Redisson, in [unit] per second, and the two ratios.
 */
fun Markdown.againstPlainAndRedisson(
    unit: String,
    rates: Map<String, Double?>,
) {
    require(rates.size == 3) { "three clients expected: Picket, plain, Redisson" }
    val (picket, plain, redisson) = rates.values.toList()
    val toPlain = ratioOf(picket, plain)
    val toRedisson = ratioOf(picket, redisson)
    table(
        rates.keys.map { ">$it ($unit/s)" } +
            listOf(">Picket / plain", ">Picket / Redisson", "targets: ≥ 0.8 of plain, ahead of Redisson"),
        listOf(
            rates.values.map { fmtOps(it) } +
                listOf(
                    fmtRatio(toPlain),
                    fmtRatio(toRedisson),
                    yes((toPlain ?: 0.0) >= PLAIN_TARGET) + " / " + yes((toRedisson ?: 0.0) > 1.0),
                ),
        ),
    )
}

/** The share of a plain loop's rate that a Picket module's benchmark targets. */
const val PLAIN_TARGET: Double = 0.8
