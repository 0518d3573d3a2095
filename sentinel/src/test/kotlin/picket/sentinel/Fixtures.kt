package picket.sentinel

import io.kotest.assertions.fail
import picket.core.PicketEvent
import picket.sentinel.testing.PlainClient
import picket.sentinel.testing.within
import java.util.Collections
import java.util.IdentityHashMap
import java.util.concurrent.CopyOnWriteArrayList

/** An independent Lettuce client, to look at nodes without going through Picket. */
object Inspect : PlainClient()

/** Collects events of one Picket instance, to await and assert them. */
class EventLog(
    picket: Picket,
) : AutoCloseable {
    private val all = CopyOnWriteArrayList<PicketEvent>()
    private val taken: MutableSet<PicketEvent> = Collections.newSetFromMap(IdentityHashMap())
    private val handle = picket.registerListener { all += it }

    val events: List<PicketEvent> get() = all.toList()

    inline fun <reified E : PicketEvent> ofType(): List<E> = events.filterIsInstance<E>()

    /**
     * Waits for the first event of type [E] matching [predicate] that no earlier call returned; events that do not
     * match stay available to other calls.
     */
    suspend inline fun <reified E : PicketEvent> await(
        seconds: Int = 30,
        crossinline predicate: (E) -> Boolean = { true },
    ): E = within(seconds) { take { it is E && predicate(it) } as E }

    fun take(matches: (PicketEvent) -> Boolean): PicketEvent =
        synchronized(taken) {
            all.firstOrNull { it !in taken && matches(it) }?.also { taken += it }
                ?: fail("no such event yet among ${all.size} events")
        }

    fun clear() =
        synchronized(taken) {
            all.clear()
            taken.clear()
        }

    override fun close() = handle.close()
}
