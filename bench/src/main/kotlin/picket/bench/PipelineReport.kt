package picket.bench

import picket.bench.PipelineBench.Companion.REDIS_BENCHMARK_DEPTH
import picket.bench.Report.LETTUCE_PIPELINE
import picket.bench.Report.PICKET_PIPELINE
import picket.bench.Report.REDIS_BENCHMARK_PIPELINE
import picket.bench.Report.THROUGHPUT_TARGET

/**
 * The pipeline section of the report: Picket / plain Lettuce at each depth against the same target as `withConn`'s,
 * Picket / redis-benchmark at redis-benchmark's depth for scale (no target: a client in C), and every round, so that
 * a ratio can be read against the round-to-round spread.
 */
class PipelineReport(
    private val result: PipelineResult,
) {
    private val rounds =
        result.rounds
            .map { it.round }
            .distinct()
            .size

    fun write(md: Markdown) {
        md.line(
            "## 4. Pipelines, SET with a ${PipelineBench.VALUE.length}-byte value on one connection, master " +
                result.node,
        )
        md.line()
        md.line(
            "Each measurement sends ${fmtOps(result.commands.toDouble())} SETs of one key, `depth` at a time, timed " +
                "to the last reply. *$PICKET_PIPELINE* is `picket.pipeline(spec, window = depth) { repeat(N) { add " +
                "{ it.set(key, value) } } }` (a dedicated connection from Picket's pool, auto-flush off); " +
                "*$LETTUCE_PIPELINE* writes the same windows by hand on one connection to the master (`depth` " +
                "`async.set`, `flushCommands()`, await those replies, next window) and keeps the replies, as " +
                "`pipeline` returns them. Medians over $rounds rounds after one uncounted pass of each client and " +
                "depth; the ratio is Picket / Lettuce, of the medians and the median of each round's. The target is " +
                "the same as `withConn`'s (section 3).",
        )
        md.line()
        md.table(
            listOf(
                ">depth",
                ">Picket pipeline (ops/s)",
                ">plain Lettuce, auto-flush off (ops/s)",
                ">ratio of the medians",
                ">median of the round ratios",
                "target ≥ $THROUGHPUT_TARGET",
            ),
            result.depths.map { depth ->
                val ratio = ratioOfMedians(depth, LETTUCE_PIPELINE)
                listOf(
                    "$depth",
                    fmtOps(medianOps(depth, PICKET_PIPELINE)),
                    fmtOps(medianOps(depth, LETTUCE_PIPELINE)),
                    fmtRatio(ratio),
                    fmtRatio(median(roundRatios(depth))),
                    yes(ratio != null && ratio >= THROUGHPUT_TARGET),
                )
            },
        )
        redisBenchmark(md)
        everyRound(md)
    }

    /** Median SETs per second of [client] at [depth] over the rounds. */
    fun medianOps(
        depth: Int,
        client: String,
    ): Double? = median(result.rounds.filter { it.depth == depth && it.client == client }.map { it.opsPerSecond })

    /** Picket / [against] of each round at [depth] (the rounds where both ran). */
    fun roundRatios(
        depth: Int,
        against: String = LETTUCE_PIPELINE,
    ): List<Double> =
        result.rounds
            .filter { it.depth == depth }
            .groupBy { it.round }
            .values
            .mapNotNull { ratio(it, against) }

    private fun ratioOfMedians(
        depth: Int,
        against: String,
    ): Double? {
        val picket = medianOps(depth, PICKET_PIPELINE)
        val other = medianOps(depth, against)
        return if (picket != null && other != null && other > 0) picket / other else null
    }

    private fun ratio(
        rounds: List<PipelineRound>,
        against: String,
    ): Double? {
        val picket = rounds.firstOrNull { it.client == PICKET_PIPELINE }?.opsPerSecond
        val other = rounds.firstOrNull { it.client == against }?.opsPerSecond
        return if (picket != null && other != null && other > 0) picket / other else null
    }

    /** Picket at redis-benchmark's depth against redis-benchmark with one connection: for scale, no target. */
    private fun redisBenchmark(md: Markdown) {
        if (!result.redisBenchmark) {
            md.line("redis-benchmark: not on the PATH, not run.")
            md.line()
            return
        }
        md.line(
            "For scale, `redis-benchmark -c 1 -n ${result.commands} -P $REDIS_BENCHMARK_DEPTH " +
                "-d ${PipelineBench.VALUE.length} -t set` on the same node in the same rounds: the same SETs on one " +
                "connection in $REDIS_BENCHMARK_DEPTH-deep pipelines, by a client in C. No target.",
        )
        md.line()
        md.table(
            listOf(
                ">Picket pipeline, depth $REDIS_BENCHMARK_DEPTH (ops/s)",
                ">redis-benchmark -c 1 -P $REDIS_BENCHMARK_DEPTH (ops/s)",
                ">ratio of the medians",
                ">median of the round ratios",
            ),
            listOf(
                listOf(
                    fmtOps(medianOps(REDIS_BENCHMARK_DEPTH, PICKET_PIPELINE)),
                    fmtOps(medianOps(REDIS_BENCHMARK_DEPTH, REDIS_BENCHMARK_PIPELINE)),
                    fmtRatio(ratioOfMedians(REDIS_BENCHMARK_DEPTH, REDIS_BENCHMARK_PIPELINE)),
                    fmtRatio(median(roundRatios(REDIS_BENCHMARK_DEPTH, REDIS_BENCHMARK_PIPELINE))),
                ),
            ),
        )
    }

    private fun everyRound(md: Markdown) {
        md.line(
            "Every round (SETs/s; each depth in turn, smallest first; odd rounds run the clients in the order of the " +
                "columns, even rounds in reverse; redis-benchmark only at depth $REDIS_BENCHMARK_DEPTH):",
        )
        md.line()
        md.table(
            listOf(
                ">round",
                ">depth",
                ">$PICKET_PIPELINE",
                ">$LETTUCE_PIPELINE",
                ">ratio to Lettuce",
                ">$REDIS_BENCHMARK_PIPELINE -P $REDIS_BENCHMARK_DEPTH",
                ">ratio to redis-benchmark",
            ),
            result.rounds.groupBy { it.round to it.depth }.map { (key, rounds) ->
                listOf(
                    "${key.first}",
                    "${key.second}",
                    fmtOps(rounds.firstOrNull { it.client == PICKET_PIPELINE }?.opsPerSecond),
                    fmtOps(rounds.firstOrNull { it.client == LETTUCE_PIPELINE }?.opsPerSecond),
                    fmtRatio(ratio(rounds, LETTUCE_PIPELINE)),
                    fmtOps(rounds.firstOrNull { it.client == REDIS_BENCHMARK_PIPELINE }?.opsPerSecond),
                    fmtRatio(ratio(rounds, REDIS_BENCHMARK_PIPELINE)),
                )
            },
        )
    }
}
