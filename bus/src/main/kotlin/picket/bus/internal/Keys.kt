package picket.bus.internal

/** The keys of one bus (bus/README.md): every key carries the hash tag `{name}`, so a bus lives in one slot. */
internal class Keys(
    base: String,
    name: String,
) {
    val root: String = "$base{$name}:"
    val settings: String = root + "settings"
    val methods: String = root + "methods"
    val instances: String = root + "instances"
    val index: String = root + "index"

    fun queue(method: String): String = root + "q:" + method

    fun owners(method: String): String = root + "owners:" + method

    fun workers(method: String): String = root + "workers:" + method

    fun cached(method: String): String = root + "cached:" + method

    fun cache(
        method: String,
        key: String,
    ): String = root + "cache:" + method + ":" + key

    fun proc(instance: String): String = root + "proc:" + instance

    fun replies(instance: String): String = root + "replies:" + instance
}
