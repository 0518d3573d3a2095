package picket.core.internal

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import java.time.Duration

/** The one back-off every retry loop uses: doubling, capped, reset, jittered within its bounds. */
class BackoffSpec :
    FunSpec({
        test("pauses double from the first up to the cap, and a reset starts again") {
            val backoff = Backoff(initialMs = 50, maxMs = 300)
            List(5) { backoff.next() } shouldBe listOf(50L, 100L, 200L, 300L, 300L)
            backoff.upcomingMs shouldBe 300L
            backoff.reset()
            backoff.next() shouldBe 50L
        }

        test("the pause after n failures is the first doubled n - 1 times, capped, in any unit, without overflow") {
            (1..6).map { Backoff.after(it, 100, 1_000) } shouldBe listOf(100L, 200L, 400L, 800L, 1_000L, 1_000L)
            Backoff.after(0, 100, 1_000) shouldBe 100L
            Backoff.after(1_000, 1, Long.MAX_VALUE) shouldBe (1L shl 30) // at most 30 doublings
            Backoff.after(40, Long.MAX_VALUE / 2, Long.MAX_VALUE) shouldBe Long.MAX_VALUE
            Backoff.after(3, 500_000, 10_000_000) shouldBe 2_000_000L
        }

        test("in durations, exact to the nanosecond, with a cap on the doublings") {
            val micros = (1..4).map { Backoff.after(it, Duration.ofNanos(500_000), Duration.ofMillis(10)) }
            micros shouldBe listOf(500_000L, 1_000_000L, 2_000_000L, 4_000_000L).map { Duration.ofNanos(it) }
            Backoff.after(10, Duration.ofMillis(1), Duration.ofHours(1), maxDoublings = 3) shouldBe Duration.ofMillis(8)
        }

        test("jitter spreads a pause within its fraction, and none leaves it as it is") {
            repeat(1_000) { Backoff.jittered(1_000, 0.2) shouldBeInRange 800L..1_200L }
            Backoff.jittered(1_000, 0.0) shouldBe 1_000L
            val jittered = Backoff(initialMs = 1_000, maxMs = 1_000, jitter = 0.5)
            repeat(100) { jittered.next() shouldBeInRange 500L..1_500L }
        }

        test("bounds that make no sense are refused, naming them") {
            shouldThrow<IllegalArgumentException> { Backoff(0, 100) }.message shouldBe "back-off from 0 ms to 100 ms"
            shouldThrow<IllegalArgumentException> { Backoff(200, 100) }.message shouldBe
                "back-off from 200 ms to 100 ms"
            shouldThrow<IllegalArgumentException> { Backoff(1, 100, jitter = 1.5) }.message shouldBe
                "jitter 1.5 is outside 0..1"
        }
    })
