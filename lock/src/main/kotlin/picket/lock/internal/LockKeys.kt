package picket.lock.internal

/**
 * The key layout of the locks under [prefix] (lock/README.md, "Key layout"): a lock's lease, its fencing state, its
 * queue of waiters and their entries, and the channel its hand-overs and releases are published on.
 */
internal class LockKeys(
    private val prefix: String,
) {
    /** The lease: a hash that expires with it. */
    fun lease(name: String): String = prefix + name

    /** The waiters' owner tokens, in arrival order. */
    fun queue(name: String): String = prefix + name + QUEUE

    /** KEYS of the scripts that may grant (`acquire.lua`, `release.lua`): lease, fence, queue, waiting. */
    fun all(name: String): Array<String> =
        arrayOf(
            lease(name),
            prefix + name + FENCE,
            queue(name),
            prefix + name + WAITING,
        )

    /** Where `granted …` and `released` are published for [name]. */
    fun channel(name: String): String = prefix + name + RELEASED

    /** Whether [channel] is one of these locks' channels. */
    fun isChannel(channel: String): Boolean = channel.startsWith(prefix) && channel.endsWith(RELEASED)

    /** The lock name of a [channel] (one [isChannel] accepted). */
    fun nameOf(channel: String): String = channel.removePrefix(prefix).removeSuffix(RELEASED)

    private companion object {
        const val FENCE = ":fence"
        const val QUEUE = ":queue"
        const val WAITING = ":waiting"
        const val RELEASED = ":released"
    }
}
