package picket.sentinel

import io.kotest.assertions.fail
import kotlinx.coroutines.CoroutineScope
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.sentinel.testing.within
import picket.testkit.WriteLoop
import java.util.Collections
import java.util.IdentityHashMap
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The test kit's [WriteLoop] writing through [picket] on [spec]: `SET <prefix><n> <n>`, the value being the write's
 * number (specs count the bytes of lost writes from it).
 */
fun WriteLoop(
    picket: Picket,
    spec: ConnSpec,
    scope: CoroutineScope,
    prefix: String = "w:",
): WriteLoop = WriteLoop(prefix, scope) { key -> picket.withConn(spec) { set(key, key.removePrefix(prefix)) } }

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
