package picket.mq.internal

import picket.core.InternalPicketApi
import picket.core.internal.ListenerBus
import picket.mq.QueueEvent
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

/**
 * The backlog thresholds of one [picket.mq.MessageQueues], by queue: every ready-list length this instance learns (an
 * enqueue's, a status's, a worker's poll's) is checked against each, and a [QueueEvent.BacklogHigh] is emitted when
 * it goes above one, once per crossing (again only after a length at or below it was seen).
 */
@OptIn(InternalPicketApi::class)
internal class BacklogWatches(
    private val events: ListenerBus<QueueEvent, *>,
) {
    private class Watch(
        val threshold: Long,
    ) {
        val high = AtomicBoolean()
        val users = AtomicInteger()
    }

    private val watches = ConcurrentHashMap<String, ConcurrentHashMap<Long, Watch>>()

    /** Watches [queue] for more than [threshold] ready messages until the handle is closed; equal ones are shared. */
    fun register(
        queue: String,
        threshold: Long,
    ): AutoCloseable {
        watches.computeIfAbsent(queue) { ConcurrentHashMap() }.compute(threshold) { _, watch ->
            (watch ?: Watch(threshold)).also { it.users.incrementAndGet() }
        }
        val closed = AtomicBoolean()
        return AutoCloseable {
            if (closed.compareAndSet(false, true)) {
                watches[queue]?.computeIfPresent(threshold) { _, watch ->
                    watch.takeIf { it.users.decrementAndGet() > 0 }
                }
            }
        }
    }

    /** [ready] messages of [queue] are ready now (negative: unknown, ignored). */
    fun observe(
        queue: String,
        ready: Long,
    ) {
        if (ready < 0) return
        watches[queue]?.values?.forEach { watch ->
            if (ready <= watch.threshold) {
                watch.high.set(false)
            } else if (watch.high.compareAndSet(false, true)) {
                events.emit(QueueEvent.BacklogHigh(queue, ready, watch.threshold))
            }
        }
    }
}
