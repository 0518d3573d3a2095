package picket.bus

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import java.time.Instant
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger

/** The seed's random-number service. */
object Rng {
    fun uuid(): String = UUID.randomUUID().toString().replace("-", "")

    fun password(length: Int = 12): String = (1..length).map { ('a'..'z').random() }.joinToString("")

    fun int(
        from: Int,
        until: Int,
    ): Int = (from until until).random()
}

/** The seed's math service, with a cached `now`. */
class MathService {
    val nowCalls = AtomicInteger()
    val squareCalls = AtomicInteger()

    fun sum(
        a: Int,
        b: Int,
    ): Int = a + b

    @Suppress("UNUSED_PARAMETER")
    fun now(seed: Int): Instant = Instant.now().also { nowCalls.incrementAndGet() }

    suspend fun square(x: Int): Int {
        squareCalls.incrementAndGet()
        delay(300)
        return x * x
    }

    fun divide(
        a: Int,
        b: Int,
    ): Int = if (b == 0) throw ArithmeticException("cannot divide $a by zero") else a / b

    fun other(
        a: Int,
        b: Int,
    ): Int = a * b
}

/** Counts each call by its id, to check that every call ran exactly once. */
class Counter {
    val runs = ConcurrentHashMap<Int, AtomicInteger>()

    suspend fun count(n: Int): Int {
        runs.computeIfAbsent(n) { AtomicInteger() }.incrementAndGet()
        delay(1)
        return n * 2
    }
}

/** A call that blocks until released, to lose its worker meanwhile. */
class Slow {
    val started = CompletableDeferred<Unit>()

    suspend fun sleep(ms: Long): String {
        started.complete(Unit)
        delay(ms)
        return "slept"
    }
}

/** A typed proxy of the math service, as a caller that has none of its code would write it. */
interface MathApi {
    fun sum(
        a: Int,
        b: Int,
    ): Int

    suspend fun now(seed: Int): Instant

    @BusName("random_password")
    suspend fun password(length: Int): String

    fun divide(
        a: Int,
        b: Int,
    ): java.util.concurrent.CompletableFuture<Int>
}

/** A call that runs until released, one release per call, to keep a worker busy while calls queue up. */
class Gate {
    val entered = Channel<Unit>(Channel.UNLIMITED)
    val release = Channel<Unit>(Channel.UNLIMITED)

    suspend fun hold(): String {
        entered.send(Unit)
        release.receive()
        return "held"
    }
}

/** Records the order in which its two methods ran. */
class Recorder {
    val seen = java.util.concurrent.CopyOnWriteArrayList<String>()

    fun a(n: Int): Int {
        seen += "a$n"
        return n
    }

    fun b(n: Int): Int {
        seen += "b$n"
        return n
    }
}
