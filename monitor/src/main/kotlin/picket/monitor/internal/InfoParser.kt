package picket.monitor.internal

/** `INFO` text into typed sections; see [picket.monitor.NodeInfo]. */
internal object InfoParser {
    private val INTEGER = Regex("-?(0|[1-9][0-9]*)")
    private val DECIMAL = Regex("-?(0|[1-9][0-9]*)\\.[0-9]+")
    private val PAIR_NAME = Regex("[A-Za-z0-9_.\\-]+")

    /** Fields whose values are text even when they look like numbers. */
    private val TEXT =
        setOf(
            "redis_version",
            "redis_git_sha1",
            "redis_build_id",
            "run_id",
            "master_replid",
            "master_replid2",
            "gcc_version",
            "os",
            "executable",
            "config_file",
            "master_host",
            "listener0",
        )

    fun parse(text: String): Map<String, Map<String, Any>> {
        val sections = LinkedHashMap<String, LinkedHashMap<String, Any>>()
        var current: LinkedHashMap<String, Any>? = null
        text.lineSequence().map { it.trimEnd('\r') }.forEach { line ->
            when {
                line.startsWith("# ") -> {
                    current =
                        sections.getOrPut(line.substring(2).trim().lowercase()) { LinkedHashMap() }
                }

                else -> {
                    val colon = line.indexOf(':')
                    if (colon > 0 && !line.startsWith("#")) {
                        val name = line.substring(0, colon)
                        val target = current ?: sections.getOrPut("") { LinkedHashMap() }
                        target[name] = value(name, line.substring(colon + 1))
                    }
                }
            }
        }
        return sections
    }

    /** The typed value of field [name]. */
    fun value(
        name: String,
        text: String,
    ): Any =
        when {
            name in TEXT -> text
            else -> scalar(text) ?: pairs(text) ?: text
        }

    private fun scalar(text: String): Any? =
        when {
            INTEGER.matches(text) -> text.toLongOrNull() ?: text
            DECIMAL.matches(text) -> text.toDouble()
            else -> null
        }

    /** `a=1,b=x` as a map of typed values, or null if [text] is not such a list. */
    private fun pairs(text: String): Map<String, Any>? {
        if ('=' !in text) return null
        val parts = text.split(',')
        val map = LinkedHashMap<String, Any>()
        for (part in parts) {
            val eq = part.indexOf('=')
            if (eq <= 0 || !PAIR_NAME.matches(part.substring(0, eq))) return null
            val value = part.substring(eq + 1)
            map[part.substring(0, eq)] = scalar(value) ?: value
        }
        return map
    }
}
