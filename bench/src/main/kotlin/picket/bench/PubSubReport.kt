package picket.bench

import picket.bench.Report.LETTUCE_PUBSUB
import picket.bench.Report.PICKET_PUBSUB
import picket.bench.Report.PUBSUB_TARGET
import picket.bench.Report.RESUBSCRIBE_TARGET_MS

/**
 * The pub/sub section of the report: messages per second received by a Picket listener against plain Lettuce
 * pub/sub from the same publisher, every round, and the time from `SwitchMaster` to the listener subscribed again
 * over the manual failovers.
 */
class PubSubReport(
    private val result: PubSubResult,
) {
    private val rounds =
        result.rounds
            .map { it.round }
            .distinct()
            .size

    fun write(md: Markdown) {
        md.line("## 5. Pub/sub, one publisher to one subscriber, master ${result.node}")
        md.line()
        md.line(
            "One plain Lettuce connection publishes ${fmtOps(result.messages.toDouble())} messages of " +
                "${PubSubBench.PAYLOAD.length} bytes as fast as it can, at most ${fmtOps(
                    PubSubBench.IN_FLIGHT.toDouble(),
                )} " +
                "awaiting their reply, on the channel of one subscriber, timed from the first `PUBLISH` to the last " +
                "message received (each `PUBLISH` must reach exactly one subscriber, and every message arrive). " +
                "*$PICKET_PUBSUB* is `picket.listen(spec, mapOf(Topic.channel(c) to { count++ }))` with the default " +
                "`ListenerOptions()` (a 1,024-message buffer, `SUSPEND` when full, the handler on the listener's own " +
                "coroutine); *$LETTUCE_PUBSUB* is `connectPubSub` on its own `RedisClient` to the same master, a " +
                "`RedisPubSubAdapter` counting on the I/O thread. Medians over $rounds rounds after one uncounted " +
                "pass of each; the ratio is Picket / Lettuce, of the medians and the median of each round's.",
        )
        md.line()
        val ratio = ratioOfMedians()
        md.table(
            listOf(
                ">Picket listener (messages/s)",
                ">plain Lettuce pub/sub (messages/s)",
                ">ratio of the medians",
                ">median of the round ratios",
                "target ≥ $PUBSUB_TARGET",
            ),
            listOf(
                listOf(
                    fmtOps(medianRate(PICKET_PUBSUB)),
                    fmtOps(medianRate(LETTUCE_PUBSUB)),
                    fmtRatio(ratio),
                    fmtRatio(median(roundRatios())),
                    yes(ratio != null && ratio >= PUBSUB_TARGET),
                ),
            ),
        )
        everyRound(md)
        resubscribes(md)
    }

    /** Median messages per second of [client] over the rounds. */
    fun medianRate(client: String): Double? =
        median(result.rounds.filter { it.client == client }.map { it.messagesPerSecond })

    /** Picket / Lettuce of each round. */
    fun roundRatios(): List<Double> =
        result.rounds
            .groupBy { it.round }
            .values
            .mapNotNull { ratio(it) }

    /** Median and max of `SwitchMaster` → `Resumed` over the failovers, in ms; nulls if none ran. */
    fun switchToResumedMs(): Pair<Double?, Double?> =
        result.resubscribes.map { it.switchToResumedMs }.let { median(it) to it.maxOrNull() }

    /** Median and max of the gap the listener reported over the failovers, in ms; nulls if none ran. */
    fun gapMs(): Pair<Double?, Double?> = result.resubscribes.map { it.gapMs }.let { median(it) to it.maxOrNull() }

    private fun ratioOfMedians(): Double? {
        val picket = medianRate(PICKET_PUBSUB)
        val lettuce = medianRate(LETTUCE_PUBSUB)
        return if (picket != null && lettuce != null && lettuce > 0) picket / lettuce else null
    }

    private fun ratio(rounds: List<PubSubRound>): Double? {
        val picket = rounds.firstOrNull { it.client == PICKET_PUBSUB }?.messagesPerSecond
        val lettuce = rounds.firstOrNull { it.client == LETTUCE_PUBSUB }?.messagesPerSecond
        return if (picket != null && lettuce != null && lettuce > 0) picket / lettuce else null
    }

    private fun everyRound(md: Markdown) {
        md.line(
            "Every round (messages/s; odd rounds run the clients in the order of the columns, even rounds in reverse):",
        )
        md.line()
        md.table(
            listOf(">round", ">$PICKET_PUBSUB", ">$LETTUCE_PUBSUB", ">ratio"),
            result.rounds.groupBy { it.round }.map { (round, rounds) ->
                listOf(
                    "$round",
                    fmtOps(rounds.firstOrNull { it.client == PICKET_PUBSUB }?.messagesPerSecond),
                    fmtOps(rounds.firstOrNull { it.client == LETTUCE_PUBSUB }?.messagesPerSecond),
                    fmtRatio(ratio(rounds)),
                )
            },
        )
    }

    private fun resubscribes(md: Markdown) {
        val runs = result.resubscribes
        if (runs.isEmpty()) {
            md.line("Resubscribing after `+switch-master`: no failover run.")
            md.line()
            return
        }
        md.line(
            "Resubscribing after `+switch-master`: ${runs.size} manual failovers (`SENTINEL FAILOVER`, then the " +
                "topology left to settle and the sentinels to fall quiet) under a listener with " +
                "`ListenerOptions(onEvent = ...)` on a Picket instance of its own. *SwitchMaster → Resumed* runs " +
                "from that instance delivering `PicketEvent.SwitchMaster` to a listener registered before the " +
                "pub/sub listener's own, to the `resumedAt` of the listener's `PubSubEvent.Resumed` (subscribed " +
                "again on the new master, confirmed by the server); the gap is the `Resumed` event's own `gap` " +
                "(`gapStart`: the last PING answered on the old connection, or the start of the failover if " +
                "announced earlier). After each, one message published through Picket must reach the listener.",
        )
        md.line()
        val (switchMedian, switchMax) = switchToResumedMs()
        val (gapMedian, gapMax) = gapMs()
        md.table(
            listOf("figure", ">median (ms)", ">max (ms)", "target", "met"),
            listOf(
                listOf(
                    "`SwitchMaster` → `Resumed`",
                    fmt(switchMedian),
                    fmt(switchMax),
                    "≤ ${fmt(RESUBSCRIBE_TARGET_MS)} in every run",
                    yes(switchMax != null && switchMax <= RESUBSCRIBE_TARGET_MS),
                ),
                listOf("gap reported by `Resumed`", fmt(gapMedian), fmt(gapMax), "–", "–"),
            ),
        )
        md.table(
            listOf(
                ">failover",
                "old → new master",
                ">`SENTINEL FAILOVER` → `SwitchMaster` (ms)",
                ">`SwitchMaster` → `Resumed` (ms)",
                ">gap (ms)",
                "why the listener left the old master",
            ),
            runs.map {
                listOf(
                    "${it.index}",
                    "${it.oldMaster} → ${it.newMaster}",
                    fmt(it.failoverToSwitchMs),
                    fmt(it.switchToResumedMs),
                    fmt(it.gapMs),
                    it.reason ?: "–",
                )
            },
        )
    }
}
