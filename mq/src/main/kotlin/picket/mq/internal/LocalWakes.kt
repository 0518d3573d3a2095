package picket.mq.internal

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList

/**
 * This process's idle workers of one [picket.mq.MessageQueues], by queue, woken by the enqueues and requeues made
 * through it (other processes wake by pub/sub).
 */
internal class LocalWakes {
    private val wakes = ConcurrentHashMap<String, CopyOnWriteArrayList<() -> Unit>>()

    /** Calls [wake] on each [wake] of [queue] from now on, until the handle is closed. */
    fun register(
        queue: String,
        wake: () -> Unit,
    ): AutoCloseable {
        val list = wakes.computeIfAbsent(queue) { CopyOnWriteArrayList() }
        list += wake
        return AutoCloseable { list -= wake }
    }

    /** Wakes every registered worker of [queue]. */
    fun wake(queue: String) {
        wakes[queue]?.forEach { it() }
    }
}
