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
