package picket.core.internal

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import java.util.concurrent.CopyOnWriteArrayList

/** Picket's one listener mechanism: queued or on the emitter, listeners and flows, isolation of a throwing one. */
class ListenerBusSpec :
    FunSpec({
        test("queued: every listener gets the events in order on the bus's own thread; a throwing one stops no other") {
            val scope = CoroutineScope(SupervisorJob())
            try {
                val bus = ListenerBus<Int, Listener>(scope, Dispatchers.IO) { listener, event -> listener.on(event) }
                val seen = CopyOnWriteArrayList<Int>()
                val threads = CopyOnWriteArrayList<String>()
                val last = CompletableDeferred<Unit>()
                bus.register { throw IllegalStateException("listener fails on $it") }
                bus.register {
                    seen += it
                    threads += Thread.currentThread().name
                    if (it == 3) last.complete(Unit)
                }
                val emitter = Thread.currentThread().name
                (1..3).forEach(bus::emit)
                withTimeout(5_000) { last.await() }
                seen shouldContainExactly listOf(1, 2, 3)
                threads.none { it == emitter } shouldBe true
            } finally {
                scope.cancel()
            }
        }

        test("queued: the flow has the events from its collection on and completes once the bus is closed") {
            val scope = CoroutineScope(SupervisorJob())
            try {
                val bus = ListenerBus<Int, Listener>(scope, Dispatchers.IO) { listener, event -> listener.on(event) }
                bus.emit(0) // before any collector: nobody hears it
                val got = CopyOnWriteArrayList<Int>()
                val collecting = launch { bus.asFlow().collect { got += it } }
                awaitHeard(got) { bus.emit(-1) }
                (1..3).forEach(bus::emit)
                bus.close()
                bus.emit(4) // after close: dropped
                withTimeout(5_000) { collecting.join() }
                got.filter { it != -1 } shouldContainExactly listOf(1, 2, 3)
                withTimeout(5_000) { bus.asFlow().toList() }.shouldBeEmpty()
            } finally {
                scope.cancel()
            }
        }

        test("on the emitter: delivered before emit returns, on the emitting thread; closed, the flow completes") {
            val bus = ListenerBus.onEmitter<Int, Listener> { listener, event -> listener.on(event) }
            val seen = CopyOnWriteArrayList<String>()
            bus.register { throw IllegalStateException("listener fails on $it") }
            val handle = bus.register { seen += "$it on ${Thread.currentThread().name}" }
            bus.emit(1)
            seen shouldContainExactly listOf("1 on ${Thread.currentThread().name}")
            handle.close()
            bus.emit(2)
            seen shouldContainExactly listOf("1 on ${Thread.currentThread().name}")

            val got = CopyOnWriteArrayList<Int>()
            val collecting = launch { bus.asFlow().collect { got += it } }
            awaitHeard(got) { bus.emit(-1) }
            bus.emit(3)
            bus.close()
            bus.emit(4) // after close: dropped
            withTimeout(5_000) { collecting.join() }
            got.filter { it != -1 } shouldContainExactly listOf(3)
            withTimeout(5_000) { bus.asFlow().toList() }.shouldBeEmpty()
        }
    })

private fun interface Listener {
    fun on(event: Int)
}

/** Emits with [emit] until [got] holds something: the flow collector is registered then. */
private suspend fun awaitHeard(
    got: List<Int>,
    emit: () -> Unit,
) = withTimeout(5_000) {
    while (got.isEmpty()) {
        emit()
        yield()
    }
}
