package picket.mq.internal

import picket.core.InvalidSpecException
import java.util.concurrent.ConcurrentHashMap

/** The key names of the queues of one [picket.mq.MessageQueues]: each name checked, its keys built once. */
internal class QueueKeyCache(
    private val ops: QueueOps,
) {
    private val cache = ConcurrentHashMap<String, QueueKeys>()

    /**
     * The keys of [queue].
     *
     * @throws InvalidSpecException if [queue] is blank or holds `{` or `}`.
     */
    fun keys(queue: String): QueueKeys {
        cache[queue]?.let { return it }
        if (queue.isBlank()) throw InvalidSpecException("queue name is blank")
        if ('{' in queue || '}' in queue) {
            throw InvalidSpecException("queue name '$queue' holds '{' or '}' (the keys' hash tag is the name)")
        }
        val keys = ops.keys(queue)
        // Eight key names per queue, built once per queue rather than per enqueue; bounded for apps that make
        // queue names on the fly.
        if (cache.size < MAX_CACHED_KEYS) cache.putIfAbsent(queue, keys)
        return keys
    }

    private companion object {
        /** Queues whose key names are kept. */
        const val MAX_CACHED_KEYS = 1_024
    }
}
