package picket.bench

import java.time.format.DateTimeFormatter

/** Renders [Results] as the Markdown that docs/BENCHMARKS.md copies: summary tables, targets, raw figures. */
object Report {
    const val PICKET_DEFAULT = "Picket default"
    const val PICKET_NO_PARKING = "Picket without parking"
    const val PICKET_DURABLE = "Picket durable"
    const val LETTUCE_MR = "Lettuce MasterReplica"
    const val PICKET_TP = "Picket withConn"
    const val LETTUCE_TP = "Lettuce, one connection"
    const val PICKET_BARE_TP = "Picket without parking or loss tracking"
    const val PICKET_PIPELINE = "Picket pipeline"
    const val LETTUCE_PIPELINE = "Lettuce, auto-flush off"
    const val REDIS_BENCHMARK_PIPELINE = "redis-benchmark -c 1"
    const val PICKET_PUBSUB = "Picket listener"
    const val LETTUCE_PUBSUB = "Lettuce pub/sub"
    const val PICKET_LOCK = "Picket Locks"
    const val REDISSON_LOCK = "Redisson RLock"
    const val PICKET_MONITOR = "Picket Monitor"
    const val LETTUCE_INFO_LOOP = "Lettuce INFO loop"

    /** Picket default / Picket without parking or loss tracking: their cost on a healthy topology. */
    const val FEATURE_COST_TARGET = 0.97
    const val SWITCH_TARGET_MS = 50.0

    /** Picket default's first write executed by the new master: at most this many ms after `SENTINEL FAILOVER`. */
    const val FAULT_TO_NEW_TARGET_MS = 1_200.0
    const val LOSS_FACTOR_TARGET = 10.0

    /** Picket / plain Lettuce, for `withConn` and, the same target, for `pipeline` at each depth. */
    const val THROUGHPUT_TARGET = 0.95

    /** Picket listener / plain Lettuce pub/sub, messages received per second from one publisher. */
    const val PUBSUB_TARGET = 0.9

    /** A listener subscribed again on the new master at most this many ms after its instance's `SwitchMaster`. */
    const val RESUBSCRIBE_TARGET_MS = 100.0

    /** Picket / Redisson, uncontended acquire-and-release pairs per second: above this (ahead of Redisson). */
    const val LOCK_TARGET = 1.0

    fun markdown(results: Results): String {
        val md = Markdown()
        run(md, results)
        results.failovers?.let { FailoverReport(it, results.settings).write(md) }
        results.connections?.let { connections(md, it) }
        results.throughput?.let { throughput(md, it) }
        results.java?.let { JavaPathReport(it, results.settings).write(md) }
        results.pipeline?.let { PipelineReport(it).write(md) }
        results.pubsub?.let { PubSubReport(it).write(md) }
        results.lock?.let { LockReport(it).write(md) }
        results.mq?.let { MqReport(it).write(md) }
        results.bus?.let { BusReport(it).write(md) }
        results.monitor?.let { MonitorReport(it).write(md) }
        return md.toString()
    }

    /** Median ops/s of [client] for [op] over the rounds. */
    fun medianOps(
        result: ThroughputResult,
        op: Op,
        client: String,
    ): Double? = median(result.rounds.filter { it.op == op && it.client == client }.map { it.opsPerSecond })

    /** Picket / Lettuce of each round of [op]. */
    fun roundRatios(
        result: ThroughputResult,
        op: Op,
    ): List<Double> =
        result.rounds
            .filter { it.op == op }
            .groupBy { it.round }
            .values
            .mapNotNull { ratio(it) }

    private fun ratio(
        rounds: List<ThroughputRound>,
        against: String = LETTUCE_TP,
    ): Double? {
        val picket = rounds.firstOrNull { it.client == PICKET_TP }?.opsPerSecond
        val other = rounds.firstOrNull { it.client == against }?.opsPerSecond
        return if (picket != null && other != null && other > 0) picket / other else null
    }

    /** Picket default / [against] of each round of [op]. */
    private fun roundRatios(
        result: ThroughputResult,
        op: Op,
        against: String,
    ): List<Double> =
        result.rounds
            .filter { it.op == op }
            .groupBy { it.round }
            .values
            .mapNotNull { ratio(it, against) }

    private fun run(
        md: Markdown,
        results: Results,
    ) {
        val m = results.machine
        val s = results.settings
        md.line("## The run")
        md.line()
        md.line(
            "- started ${results.started.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)}, took " +
                "${results.duration.toSeconds()} s",
        )
        md.line("- machine: ${m.processors} processors (`nproc`), ${m.cpu}, ${m.memory}, ${m.os}")
        md.line("- load average (/proc/loadavg) before: `${m.loadBefore}`, after: `${m.loadAfter}`")
        md.line("- ${m.java}; Lettuce ${m.lettuce}; ${m.redisServer}")
        md.line("- topology: ${results.topology}")
        md.line(
            "- failovers: ${s.failoverRuns} runs of each kind, writes from ${s.beforeFault.toMillis()} ms before the " +
                "fault until ${s.afterSwitch.toMillis()} ms after +switch-master, command timeout " +
                "${s.commandTimeout.toMillis()} ms for every client, quiet = ${s.quiet.toMillis()} ms without a " +
                "sentinel event (waited for at most ${s.maxQuiet.toMillis()} ms)",
        )
        md.line(
            "- throughput: ${s.callers} callers, ${s.throughputRounds} rounds of ${s.roundDuration.toMillis()} ms " +
                "(after ${s.roundWarmup.toMillis()} ms uncounted), ${s.warmup.toMillis()} ms warm-up per client and " +
                "operation first",
        )
        md.line(
            "- pipelines: ${s.pipelineRounds} rounds of ${fmtOps(s.pipelineCommands.toDouble())} SETs per client " +
                "and depth (${PipelineBench.DEPTHS.joinToString(" and ")}), one uncounted pass of each first",
        )
        md.line(
            "- pub/sub: ${s.pubsubRounds} rounds of ${fmtOps(s.pubsubMessages.toDouble())} messages per " +
                "subscriber, one uncounted pass of each first; ${s.pubsubFailovers} manual failovers under a listener",
        )
        md.line(
            "- locks: ${s.lockRounds} rounds of ${s.lockDuration.toMillis()} ms uncontended acquire-and-release per " +
                "client, then ${fmtOps(s.lockHandoffs.toDouble())} hand-offs between ${s.lockWaiters} callers " +
                "holding ${s.lockHold.toMillis()} ms each, one uncounted pass of each first",
        )
        md.line()
    }

    private fun connections(
        md: Markdown,
        phases: List<ConnectionsPhase>,
    ) {
        md.line("## 2. Sentinel connections held per process in steady state")
        md.line()
        md.line(
            "Counted with `CLIENT LIST` on each of the 3 sentinels: the connections that were not there before the " +
                "client was set up, 1.5 s after its last command.",
        )
        md.line()
        md.table(
            listOf("client", "what it had open", "per sentinel", ">total", "named `picket`", "client names seen"),
            phases.map { p ->
                listOf(
                    p.label,
                    p.setup,
                    p.perSentinel.joinToString(" / "),
                    "${p.total}",
                    p.namedPicket.joinToString(" / "),
                    p.names.entries.joinToString(", ") { "${it.key.ifEmpty { "(none)" }} ${it.value}" },
                )
            },
        )
    }

    /** Picket default against the same Picket with parking and loss tracking off, on a healthy topology. */
    private fun featureCost(
        md: Markdown,
        t: ThroughputResult,
    ) {
        md.line(
            "The cost of write parking and loss tracking on a healthy topology: Picket default / the same Picket " +
                "with `parking(false).lossDetection(false)`.",
        )
        md.line()
        md.table(
            listOf(
                "operation",
                ">Picket default (ops/s)",
                ">without parking or loss tracking (ops/s)",
                ">ratio of the medians",
                ">median of the round ratios",
                "target ≥ $FEATURE_COST_TARGET",
            ),
            Op.entries.map { op ->
                val picket = medianOps(t, op, PICKET_TP)
                val bare = medianOps(t, op, PICKET_BARE_TP)
                val ratio = if (picket != null && bare != null && bare > 0) picket / bare else null
                listOf(
                    "$op",
                    fmtOps(picket),
                    fmtOps(bare),
                    fmtRatio(ratio),
                    fmtRatio(median(roundRatios(t, op, PICKET_BARE_TP))),
                    yes(ratio != null && ratio >= FEATURE_COST_TARGET),
                )
            },
        )
    }

    private fun throughput(
        md: Markdown,
        t: ThroughputResult,
    ) {
        md.line("## 3. Throughput, ${t.callers} concurrent coroutine callers, master ${t.node}")
        md.line()
        md.line(
            "Medians over the rounds; the ratio is Picket / Lettuce, of the medians and the median of each round's.",
        )
        md.line()
        md.table(
            listOf(
                "operation",
                ">Picket withConn (ops/s)",
                ">plain Lettuce, one connection (ops/s)",
                ">ratio of the medians",
                ">median of the round ratios",
                "target ≥ ${THROUGHPUT_TARGET}",
            ),
            Op.entries.map { op ->
                val picket = medianOps(t, op, PICKET_TP)
                val lettuce = medianOps(t, op, LETTUCE_TP)
                val ratio = if (picket != null && lettuce != null && lettuce > 0) picket / lettuce else null
                listOf(
                    "$op",
                    fmtOps(picket),
                    fmtOps(lettuce),
                    fmtRatio(ratio),
                    fmtRatio(median(roundRatios(t, op))),
                    yes(ratio != null && ratio >= THROUGHPUT_TARGET),
                )
            },
        )
        featureCost(md, t)
        everyRound(md, t)
    }

    private fun everyRound(
        md: Markdown,
        t: ThroughputResult,
    ) {
        md.line(
            "Every round (ops/s; odd rounds run the clients in the order of the columns, even rounds in reverse):",
        )
        md.line()
        md.table(
            listOf(
                ">round",
                "operation",
                ">Picket withConn",
                ">Picket without parking or loss tracking",
                ">Lettuce, one connection",
                ">ratio to Lettuce",
                ">ratio to bare Picket",
            ),
            t.rounds.groupBy { it.round to it.op }.map { (key, rounds) ->
                listOf(
                    "${key.first}",
                    "${key.second}",
                    fmtOps(rounds.firstOrNull { it.client == PICKET_TP }?.opsPerSecond),
                    fmtOps(rounds.firstOrNull { it.client == PICKET_BARE_TP }?.opsPerSecond),
                    fmtOps(rounds.firstOrNull { it.client == LETTUCE_TP }?.opsPerSecond),
                    fmtRatio(ratio(rounds)),
                    fmtRatio(ratio(rounds, PICKET_BARE_TP)),
                )
            },
        )
        val rb = t.redisBenchmark
        if (rb == null) {
            md.line("redis-benchmark: not on the PATH, not run.")
            md.line()
        } else {
            md.line("redis-benchmark on the same node, ${t.callers} clients (`-c ${t.callers} -t set,get --csv`):")
            md.line()
            md.table(
                listOf("test", ">pipeline (-P)", ">requests (-n)", ">ops/s"),
                rb.map { listOf(it.test, "${it.pipeline}", "${it.requests}", fmtOps(it.opsPerSecond)) },
            )
        }
    }
}
