package picket.bench

import picket.bench.LockBench.Companion.P50
import picket.bench.LockBench.Companion.P99
import picket.bench.Report.LOCK_TARGET
import picket.bench.Report.PICKET_LOCK
import picket.bench.Report.REDISSON_LOCK
import java.util.Locale

/**
 * The lock section of the report: uncontended acquire-and-release pairs per second of Picket's locks against
 * Redisson's `RLock`, the hand-off latency between contending callers (p50 and p99 over every round's hand-offs),
 * and every round, so that a ratio can be read against the round-to-round spread.
 */
class LockReport(
    private val result: LockResult,
) {
    private val rounds =
        result.uncontended
            .map { it.round }
            .distinct()
            .size

    fun write(md: Markdown) {
        md.line("## 6. Locks, Picket against Redisson's `RLock`, master ${result.node}")
        md.line()
        md.line(
            "Both clients lock on the same master, each its own lock name: *$PICKET_LOCK* is `picket.locks(spec)` " +
                "(default `LockOptions()`), *$REDISSON_LOCK* is Redisson ${result.redisson} " +
                "(`Redisson.create(config)`, `useSingleServer()` on the master's address, default codec and pools). " +
                "**Uncontended**: one caller takes and releases a lock nobody else wants, as fast as it can, for " +
                "${result.duration.toMillis()} ms: Picket `acquire(name, holdFor = 10 s, waitFor = 0)` then " +
                "`release(lease)` in a coroutine on `Dispatchers.Default`, Redisson `tryLock(0, 10, SECONDS)` then " +
                "`unlock()` on a thread of `Dispatchers.IO`. Medians over $rounds rounds after one uncounted pass " +
                "of each; the ratio is Picket / Redisson, of the medians and the median of each round's.",
        )
        md.line()
        val ratio = ratioOfMedians()
        md.table(
            listOf(
                ">Picket (acquire+release/s)",
                ">Redisson (acquire+release/s)",
                ">ratio of the medians",
                ">median of the round ratios",
                "target > ${fmt(LOCK_TARGET)}",
            ),
            listOf(
                listOf(
                    fmtOps(medianRate(PICKET_LOCK)),
                    fmtOps(medianRate(REDISSON_LOCK)),
                    fmtRatio(ratio),
                    fmtRatio(median(roundRatios())),
                    yes(ratio != null && ratio > LOCK_TARGET),
                ),
            ),
        )
        handoffs(md)
        everyRound(md)
    }

    /** Median uncontended acquire-and-release pairs per second of [client] over the rounds. */
    fun medianRate(client: String): Double? =
        median(result.uncontended.filter { it.client == client }.map { it.pairsPerSecond })

    /** Picket / Redisson, uncontended, of each round. */
    fun roundRatios(): List<Double> =
        result.uncontended
            .groupBy { it.round }
            .values
            .mapNotNull { ratio(it) }

    /** [client]'s hand-offs of every round together, in ms. */
    fun handoffsMs(client: String): List<Double> =
        result.contended.filter { it.client == client }.flatMap { it.handoffsMs }

    private fun ratioOfMedians(): Double? {
        val picket = medianRate(PICKET_LOCK)
        val redisson = medianRate(REDISSON_LOCK)
        return if (picket != null && redisson != null && redisson > 0) picket / redisson else null
    }

    private fun ratio(rounds: List<LockRound>): Double? {
        val picket = rounds.firstOrNull { it.client == PICKET_LOCK }?.pairsPerSecond
        val redisson = rounds.firstOrNull { it.client == REDISSON_LOCK }?.pairsPerSecond
        return if (picket != null && redisson != null && redisson > 0) picket / redisson else null
    }

    private fun handoffs(md: Markdown) {
        md.line(
            "**Contended**: ${result.waiters} callers take the same lock in turn, each waiting up to 10 s, holding " +
                "it ${result.hold.toMillis()} ms (`delay` / `Thread.sleep`) and releasing it, until " +
                "${fmtOps(result.handoffs.toDouble())} hand-offs are timed: Picket ${result.waiters} coroutines on " +
                "`Dispatchers.Default` sharing one `Locks` (`acquire(name, holdFor = 10 s, waitFor = 10 s)`), " +
                "Redisson ${result.waiters} threads sharing one client (`tryLock(10, 10, SECONDS)`). A *hand-off* " +
                "runs from the stamp a holder takes just before it calls release to the next holder's acquire " +
                "returning; the first ${result.waiters} acquisitions of each measurement, while the callers arrive, " +
                "are not timed. Redisson's release publishes on the lock's channel and a woken waiter tries its " +
                "acquire script, but `RLock` is not fair: the caller that has just released may take the lock again " +
                "before the woken waiter does (a hand-off *back to the caller that released*, with no wake-up in " +
                "it). Picket's waiters queue up on the server in arrival order; its release script makes the first " +
                "live waiter the owner and publishes that waiter's lease, which the waiter takes with no acquire " +
                "round trip, and the releasing caller queues behind the others. Percentiles (nearest rank) " +
                "over the hand-offs of all $rounds rounds together; the target is Picket below Redisson in both, " +
                "over all hand-offs. The last two rows take only the hand-offs to another caller: a waiter woken.",
        )
        md.line()
        val picket = handoffsMs(PICKET_LOCK)
        val redisson = handoffsMs(REDISSON_LOCK)
        md.table(
            listOf("hand-off", ">Picket (ms)", ">Redisson (ms)", ">ratio", "target", "met"),
            listOf(
                percentiles("p50", picket, redisson, P50, target = true),
                percentiles("p99", picket, redisson, P99, target = true),
                listOf("max", ms(picket.maxOrNull()), ms(redisson.maxOrNull()), "–", "–", "–"),
                listOf("hand-offs timed", "${picket.size}", "${redisson.size}", "–", "–", "–"),
                listOf("of which back to the caller that released", share(PICKET_LOCK), share(REDISSON_LOCK)) +
                    List(3) { "–" },
                percentiles(
                    "p50, to another caller only",
                    toOtherCallerMs(PICKET_LOCK),
                    toOtherCallerMs(REDISSON_LOCK),
                    P50,
                ),
                percentiles(
                    "p99, to another caller only",
                    toOtherCallerMs(PICKET_LOCK),
                    toOtherCallerMs(REDISSON_LOCK),
                    P99,
                ),
            ),
        )
    }

    private fun everyRound(md: Markdown) {
        md.line(
            "Every round (odd rounds run the clients in the order of the columns, even rounds in reverse; each round " +
                "runs both uncontended, then both contended):",
        )
        md.line()
        md.table(
            listOf(
                ">round",
                ">Picket (acquire+release/s)",
                ">Redisson (acquire+release/s)",
                ">ratio",
                ">Picket hand-off p50 (ms)",
                ">Redisson hand-off p50 (ms)",
                ">Picket hand-off p99 (ms)",
                ">Redisson hand-off p99 (ms)",
            ),
            result.uncontended.groupBy { it.round }.map { (round, pairs) ->
                val picket = result.contended.firstOrNull { it.round == round && it.client == PICKET_LOCK }
                val redisson = result.contended.firstOrNull { it.round == round && it.client == REDISSON_LOCK }
                listOf(
                    "$round",
                    fmtOps(pairs.firstOrNull { it.client == PICKET_LOCK }?.pairsPerSecond),
                    fmtOps(pairs.firstOrNull { it.client == REDISSON_LOCK }?.pairsPerSecond),
                    fmtRatio(ratio(pairs)),
                    ms(picket?.let { percentile(it.handoffsMs, P50) }),
                    ms(redisson?.let { percentile(it.handoffsMs, P50) }),
                    ms(picket?.let { percentile(it.handoffsMs, P99) }),
                    ms(redisson?.let { percentile(it.handoffsMs, P99) }),
                )
            },
        )
    }

    /** [client]'s hand-offs to another caller (a waiter woken by the release) of every round together, in ms. */
    fun toOtherCallerMs(client: String): List<Double> =
        result.contended.filter { it.client == client }.flatMap { it.toOtherCallerMs }

    /** A row of the [p]-quantiles of both clients and their ratio; with the target (Picket lower) if [target]. */
    private fun percentiles(
        label: String,
        picket: List<Double>,
        redisson: List<Double>,
        p: Double,
        target: Boolean = false,
    ): List<String> {
        val ours = percentile(picket, p)
        val theirs = percentile(redisson, p)
        return listOf(
            label,
            ms(ours),
            ms(theirs),
            fmtRatio(if (ours != null && theirs != null && theirs > 0) ours / theirs else null),
            if (target) "Picket lower" else "–",
            if (target) yes(ours != null && theirs != null && ours < theirs) else "–",
        )
    }

    /** Timed hand-offs of [client] that went back to the caller that had just released, over all rounds. */
    fun toSameCaller(client: String): Int = result.contended.filter { it.client == client }.sumOf { it.toSameCaller }

    private fun share(client: String): String {
        val all = handoffsMs(client).size
        val same = toSameCaller(client)
        return if (all == 0) "–" else String.format(Locale.ROOT, "%d (%.0f %%)", same, PERCENT * same / all)
    }

    /** Milliseconds with two decimals: hand-offs are well under one. */
    private fun ms(value: Double?): String = value?.let { String.format(Locale.ROOT, "%.2f", it) } ?: "–"

    private companion object {
        const val PERCENT = 100.0
    }
}
