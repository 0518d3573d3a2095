package picket.mq.internal

/**
 * The keys of one queue: `<prefix>{<queue>}:<part>`, every one with the hash tag `{<queue>}`. mq/README.md lists
 * them.
 */
internal class QueueKeys(
    prefix: String,
    val queue: String,
) {
    private val base = "$prefix{$queue}:"
    val ready: String = base + "ready"
    val delayed: String = base + "delayed"
    val inFlight: String = base + "inflight"
    val done: String = base + "done"
    val dead: String = base + "dead"
    val stats: String = base + "stats"

    /** Put before a message's id: its hash. */
    val messagePrefix: String = base + "m:"

    /** Enqueues that make the ready list non-empty publish here; idle workers subscribe. */
    val wakeChannel: String = base + "wake"

    /** KEYS of every queue-level script, in the order the scripts expect. */
    val all: Array<String> = arrayOf(ready, delayed, inFlight, done, dead, stats)

    fun message(id: String): String = messagePrefix + id
}
