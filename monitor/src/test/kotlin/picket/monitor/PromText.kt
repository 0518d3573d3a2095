package picket.monitor

/**
 * A strict parser of Prometheus' text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/
 * exposition_formats/#text-based-format), for specs: `# HELP` and `# TYPE` lines, samples with optional labels
 * (escaped values), float values (`NaN`, `+Inf`, `-Inf` included) and optional timestamps. Anything else, a sample
 * of a family whose TYPE came after it, a duplicate TYPE or a repeated series fails with the line number. Prometheus'
 * own Java client writes the format but does not parse it; the parsers on Maven Central are forks of a 2016 scraper
 * on a 2013 model artifact, unmaintained (see the module README), so this one stays.
 */
object PromText {
    data class Sample(
        val name: String,
        val labels: Map<String, String>,
        val value: Double,
    )

    data class Family(
        val name: String,
        val type: String?,
        val help: String?,
        val samples: List<Sample>,
    )

    private val NAME = Regex("[a-zA-Z_:][a-zA-Z0-9_:]*")
    private val LABEL = Regex("[a-zA-Z_][a-zA-Z0-9_]*")
    private val TYPES = setOf("counter", "gauge", "histogram", "summary", "untyped")

    fun parse(text: String): Map<String, Family> {
        val types = LinkedHashMap<String, String>()
        val helps = LinkedHashMap<String, String>()
        val samples = LinkedHashMap<String, MutableList<Sample>>()
        val series = HashSet<Pair<String, Map<String, String>>>()
        require(text.isEmpty() || text.endsWith("\n")) { "the exposition must end with a line feed" }
        text.lines().dropLast(1).forEachIndexed { index, line ->
            val at = "line ${index + 1} '$line'"
            when {
                line.startsWith("# HELP ") -> {
                    val rest = line.removePrefix("# HELP ")
                    val name = rest.substringBefore(' ')
                    require(NAME.matches(name)) { "$at: bad metric name" }
                    require(helps.put(name, rest.substringAfter(' ', "")) == null) { "$at: second HELP" }
                }

                line.startsWith("# TYPE ") -> {
                    val parts = line.removePrefix("# TYPE ").split(' ')
                    require(parts.size == 2 && NAME.matches(parts[0]) && parts[1] in TYPES) { "$at: bad TYPE" }
                    require(parts[0] !in samples) { "$at: TYPE after samples of the family" }
                    require(types.put(parts[0], parts[1]) == null) { "$at: second TYPE" }
                }

                line.startsWith("#") || line.isBlank() -> {
                    // A comment or an empty line.
                }

                else -> {
                    val sample = sample(line, at)
                    require(series.add(sample.name to sample.labels)) { "$at: repeated series" }
                    samples.getOrPut(sample.name) { mutableListOf() } += sample
                }
            }
        }
        return (types.keys + samples.keys).associateWith { name ->
            Family(name, types[name], helps[name], samples[name].orEmpty())
        }
    }

    /** Reads the labels of [line] from [start] (after `{`) into [labels]; returns the index after `}`. */
    private fun labels(
        line: String,
        start: Int,
        at: String,
        labels: MutableMap<String, String>,
    ): Int {
        var i = start
        while (line[i] != '}') {
            val label = LABEL.find(line, i)?.takeIf { it.range.first == i }?.value ?: error("$at: bad label name")
            i += label.length
            require(line[i] == '=' && line[i + 1] == '"') { "$at: label without =\"" }
            val value = StringBuilder()
            i += 2
            while (line[i] != '"') {
                val c = if (line[i] == '\\') escaped(line[++i], at) else line[i]
                value.append(c)
                i++
            }
            i++
            require(labels.put(label, value.toString()) == null) { "$at: label $label twice" }
            if (line[i] == ',') i++
        }
        return i + 1
    }

    private fun escaped(
        c: Char,
        at: String,
    ): Char =
        when (c) {
            'n' -> '\n'
            '\\' -> '\\'
            '"' -> '"'
            else -> error("$at: bad escape")
        }

    private fun sample(
        line: String,
        at: String,
    ): Sample {
        val name = NAME.find(line)?.takeIf { it.range.first == 0 }?.value ?: error("$at: no metric name")
        var i = name.length
        val labels = LinkedHashMap<String, String>()
        if (i < line.length && line[i] == '{') i = labels(line, i + 1, at, labels)
        require(line[i] == ' ') { "$at: no space before the value" }
        val parts = line.substring(i + 1).split(' ')
        require(parts.size in 1..2) { "$at: bad value/timestamp" }
        val value =
            when (parts[0]) {
                "NaN" -> Double.NaN
                "+Inf" -> Double.POSITIVE_INFINITY
                "-Inf" -> Double.NEGATIVE_INFINITY
                else -> parts[0].toDoubleOrNull() ?: error("$at: value '${parts[0]}' is not a float")
            }
        if (parts.size == 2) requireNotNull(parts[1].toLongOrNull()) { "$at: bad timestamp" }
        return Sample(name, labels, value)
    }
}
