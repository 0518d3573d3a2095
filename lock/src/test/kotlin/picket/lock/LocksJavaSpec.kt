package picket.lock

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.kotest.matchers.types.shouldBeSameInstanceAs
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketInterruptedException
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/** What a Java caller's call gave: its result or error, and whether its thread's interrupt flag was set after it. */
private class Call<T>(
    val outcome: Result<T>,
    val interruptedAfter: Boolean,
)

/** A Java caller: [body] on a platform thread of its own, as a Java application would call. */
private class JavaCaller<T>(
    name: String,
    body: () -> T,
) {
    val done = CompletableFuture<Call<T>>()
    val thread =
        thread(name = name) {
            val outcome = runCatching(body)
            done.complete(Call(outcome, Thread.currentThread().isInterrupted))
        }

    suspend fun await(): Call<T> = withTimeout(30.seconds) { done.await() }
}

/** Waits [millis] interruptibly, without Redis: how a Java block does work that an interrupt must stop. */
private fun work(millis: Long) {
    CountDownLatch(1).await(millis, TimeUnit.MILLISECONDS)
}

/** The Java views of [Locks] on a real topology: the same capabilities; a lock a Java block cannot lose silently. */
class LocksJavaSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
        val picket = Picket().apply { setSentinelGroups("main" to topology.sentinelGroup()) }
        val other = Picket().apply { setSentinelGroups("main" to topology.sentinelGroup()) }
        val locks = picket.locks(spec)
        val others = other.locks(spec)
        afterSpec {
            locks.close()
            others.close()
            picket.close()
            other.close()
        }
        val second = Duration.ofSeconds(1)

        test("the blocking and async views acquire, look, extend, release and refuse a held lock") {
            val blocking = locks.blocking()
            val async = locks.async()
            blocking shouldBeSameInstanceAs locks.blocking()
            async shouldBeSameInstanceAs locks.async()
            val name = "java:basics"
            // Held 10 s: a loaded machine's stalls must not let it expire before the stranger's release is refused.
            val lease = blocking.acquire(name, Duration.ofSeconds(10), Duration.ZERO).shouldNotBeNull()
            blocking.holder(name)!!.fencingToken shouldBe lease.fencingToken
            // Another instance's caller: refused in every form.
            val otherBlocking = others.blocking()
            val otherAsync = others.async()
            otherBlocking.acquire(name, second, Duration.ZERO).shouldBeNull()
            otherAsync.acquire(name, second, Duration.ZERO).await().shouldBeNull()
            otherBlocking.withLockOrNull(name, second, Duration.ZERO) { "never" }.shouldBeNull()
            val ready = CompletableFuture.completedFuture("never")
            otherAsync.withLockOrNull(name, second, Duration.ZERO) { ready }.await().shouldBeNull()
            shouldThrow<LockNotAcquiredException> {
                otherBlocking.withLock(name, second, Duration.ofMillis(100)) { "never" }
            }.message shouldBe "lock 'java:basics' not acquired within 100 ms: held by another owner"
            shouldThrow<NotLockOwnerException> { otherBlocking.release(lease.copy(owner = "someone-else")) }

            val extended = blocking.extend(lease, Duration.ofSeconds(20))
            extended.expiresAt shouldBeGreaterThan lease.expiresAt
            val again = async.extend(extended).await()
            again.holdFor shouldBe Duration.ofSeconds(20)
            async.holder(name).await()!!.remaining shouldBeGreaterThan Duration.ofSeconds(10)
            blocking.release(again) shouldBe true
            async.release(again).await() shouldBe false
            blocking.holder(name).shouldBeNull()

            val viaFuture = async.acquire(name, second, Duration.ZERO).await().shouldNotBeNull()
            viaFuture.fencingToken shouldBeGreaterThan lease.fencingToken
            async.release(viaFuture).await() shouldBe true
            val token = blocking.withLockOrNull(name, second, Duration.ZERO) { it.fencingToken }.shouldNotBeNull()
            token shouldBeGreaterThan viaFuture.fencingToken
        }

        test("a blocking withLock runs its block on the caller's thread, which sees the caller's ThreadLocal") {
            val context = ThreadLocal<String>()
            val blockThreads = mutableListOf<Thread>()
            val caller =
                JavaCaller("java-thread-local") {
                    context.set("tenant-7")
                    val seen =
                        locks.blocking().withLock("java:local", second, Duration.ZERO) {
                            blockThreads += Thread.currentThread()
                            context.get()
                        }
                    val seenOrNull =
                        locks.blocking().withLockOrNull("java:local", second, Duration.ZERO) {
                            blockThreads += Thread.currentThread()
                            context.get()
                        }
                    "$seen, $seenOrNull"
                }
            caller.await().outcome.getOrThrow() shouldBe "tenant-7, tenant-7"
            blockThreads shouldBe listOf(caller.thread, caller.thread)
        }

        test("a Java block running over 3x holdFor keeps the lock: another caller cannot take it, the token stays") {
            // 900 ms: extended every 300 ms, a stall of a loaded machine must pass 600 ms to lose it (at 600, one did).
            val holdFor = Duration.ofMillis(900)
            val window = holdFor.toMillis() * 3
            val started = CountDownLatch(1)
            val caller =
                JavaCaller("java-holder") {
                    locks.blocking().withLock("java:long", holdFor, Duration.ZERO) { lease ->
                        started.countDown()
                        // Busy for longer than the window below, on this thread, without Redis.
                        work(window + 300)
                        lease.fencingToken
                    }
                }
            started.await(10, TimeUnit.SECONDS) shouldBe true
            val began = System.nanoTime()
            val token =
                others
                    .blocking()
                    .holder("java:long")
                    .shouldNotBeNull()
                    .fencingToken
            val taken = mutableListOf<LockLease>()
            var attempts = 0
            while ((System.nanoTime() - began) / 1_000_000 < window) {
                others.blocking().acquire("java:long", holdFor, Duration.ZERO)?.let { taken += it }
                others
                    .blocking()
                    .holder("java:long")
                    .shouldNotBeNull()
                    .fencingToken shouldBe token
                attempts++
                delay(100)
            }
            println("java:long: $attempts attempts by another caller over $window ms, none took the lock")
            val call = caller.await()
            call.outcome.getOrThrow() shouldBe token
            taken.shouldBeEmpty()
            attempts shouldBeGreaterThanOrEqual 6
            call.interruptedAfter shouldBe false
            others.blocking().holder("java:long").shouldBeNull()
        }

        test("a lease lost mid-block interrupts the block within a third of holdFor; LockLostException, flag clear") {
            // 900 ms: extended every 300 ms, a stall of a loaded machine must pass 600 ms to lose it (at 600, one did).
            val holdFor = Duration.ofMillis(900)
            val started = CountDownLatch(1)
            val interruptedAt = CompletableFuture<Long>()
            val caller =
                JavaCaller("java-lost") {
                    locks.blocking().withLock("java:lost", holdFor, Duration.ZERO) {
                        started.countDown()
                        try {
                            CountDownLatch(1).await(10, TimeUnit.SECONDS)
                            "not interrupted"
                        } catch (e: InterruptedException) {
                            interruptedAt.complete(System.nanoTime())
                            // What a Java block usually does: keep the flag, fail.
                            Thread.currentThread().interrupt()
                            throw IllegalStateException("work interrupted", e)
                        }
                    }
                }
            started.await(10, TimeUnit.SECONDS) shouldBe true
            picket.withConn(spec) { del("picket:lock:java:lost") } shouldBe 1L
            val deletedAt = System.nanoTime()
            val call = caller.await()
            val lost = call.outcome.exceptionOrNull().shouldBeInstanceOf<LockLostException>()
            lost.message shouldBe "lock 'java:lost' lost: it expired before it was extended"
            val own = lost.suppressed.single().shouldBeInstanceOf<IllegalStateException>()
            own.cause.shouldBeInstanceOf<InterruptedException>()
            call.interruptedAfter shouldBe false
            val tookMs = (interruptedAt.getNow(null).shouldNotBeNull() - deletedAt) / 1_000_000
            println(
                "lease deleted -> block interrupted: $tookMs ms (a third of the hold: ${holdFor.toMillis() / 3} ms)",
            )
            // A third of the hold, plus the extension's round trip and the thread hops of a loaded machine.
            tookMs shouldBeLessThan holdFor.toMillis() / 3 + 300

            // Lost while the block waits in a Redis call: its PicketInterruptedException is in the loss.
            val inRedis =
                JavaCaller("java-lost-in-redis") {
                    locks.blocking().withLock("java:lost", holdFor, Duration.ZERO) {
                        picket.blocking().withConn(spec) { redis -> redis.del("picket:lock:java:lost") }
                        picket.blocking().withDedicatedConn(spec) { redis -> redis.blpop(10, "java:nothing") }
                    }
                }
            val inRedisCall = inRedis.await()
            val lostInRedis = inRedisCall.outcome.exceptionOrNull().shouldBeInstanceOf<LockLostException>()
            lostInRedis.suppressed.single().shouldBeInstanceOf<PicketInterruptedException>()
            inRedisCall.interruptedAfter shouldBe false
            locks.blocking().holder("java:lost").shouldBeNull()
        }

        test("the caller's own interrupt during a blocking withLock is kept; the lock is released") {
            val started = CountDownLatch(1)
            val caller =
                JavaCaller("java-interrupted") {
                    locks.blocking().withLock("java:interrupted", Duration.ofSeconds(5), Duration.ZERO) {
                        started.countDown()
                        picket.blocking().withDedicatedConn(spec) { redis -> redis.blpop(20, "java:nothing") }
                    }
                }
            started.await(10, TimeUnit.SECONDS) shouldBe true
            locks.blocking().holder("java:interrupted").shouldNotBeNull()
            val began = System.nanoTime()
            caller.thread.interrupt()
            val call = caller.await()
            call.outcome.exceptionOrNull().shouldBeInstanceOf<PicketInterruptedException>()
            call.interruptedAfter shouldBe true
            Duration.ofNanos(System.nanoTime() - began) shouldBeLessThan Duration.ofSeconds(5)
            // Released at once, not left to expire after its 5 s.
            locks.blocking().holder("java:interrupted").shouldBeNull()
        }

        test("async withLock holds the lock while the stage is pending; a loss fails the future, cancels the stage") {
            // 900 ms: extended every 300 ms, a stall of a loaded machine must pass 600 ms to lose it (at 600, one did).
            val holdFor = Duration.ofMillis(900)
            val kept =
                locks.async().withLock("java:async", holdFor, Duration.ZERO) { lease ->
                    CompletableFuture.supplyAsync(
                        { lease.fencingToken },
                        CompletableFuture.delayedExecutor(holdFor.toMillis() * 3, TimeUnit.MILLISECONDS),
                    )
                }
            val token =
                within(10) {
                    locks
                        .blocking()
                        .holder("java:async")
                        .shouldNotBeNull()
                        .fencingToken
                }
            others
                .async()
                .acquire("java:async", holdFor, Duration.ZERO)
                .await()
                .shouldBeNull()
            withTimeout(10.seconds) { kept.await() } shouldBe token

            val stage = CompletableFuture<String>()
            val called = CompletableFuture<LockLease>()
            val future =
                locks.async().withLock("java:async", holdFor, Duration.ZERO) { lease ->
                    called.complete(lease)
                    stage
                }
            withTimeout(10.seconds) { called.await() }
            picket.withConn(spec) { del("picket:lock:java:async") } shouldBe 1L
            val failed = shouldThrow<ExecutionException> { future.get(10, TimeUnit.SECONDS) }
            failed.cause.shouldBeInstanceOf<LockLostException>().message shouldContain "lock 'java:async' lost"
            stage.isCancelled shouldBe true
        }
    })
