package picket.bench

import java.time.Duration

/** How long and how often each benchmark measures; [full] is the documented run, [smoke] the spec's. */
data class Settings(
    /**
     * Which benchmarks run, in this order: [CONNECTIONS], [THROUGHPUT], [JAVA], [PIPELINE], [PUBSUB], [LOCK], [MQ],
     * [BUS], [FAILOVER].
     */
    val benchmarks: Set<String> = ALL,
    /** The faults of each failover run, in this order. */
    val faults: List<Fault> = Fault.entries,
    /** Failover runs of each kind (manual `SENTINEL FAILOVER`, kill -9 of the master). */
    val failoverRuns: Int,
    /** Writes before the fault is injected. */
    val beforeFault: Duration,
    /** How long the write loops go on after the first `+switch-master` (Lettuce needs about 4 s to follow). */
    val afterSwitch: Duration,
    /** The sentinels count as quiet after this long without an event. */
    val quiet: Duration,
    /** Wait at most this long for quiet before the next run. */
    val maxQuiet: Duration,
    /** The command timeout of every client in the failover benchmark (Picket's specs and Lettuce's URI). */
    val commandTimeout: Duration,
    /** Specs (each its own data connection) that Picket uses in the sentinel-connection count. */
    val connectionSpecs: Int,
    /** Lettuce MasterReplica connections opened at once in the sentinel-connection count. */
    val lettuceConnections: Int,
    /** Concurrent coroutine callers in the throughput benchmark. */
    val callers: Int,
    /** Both clients run this long before the first throughput round. */
    val warmup: Duration,
    /** Alternating throughput rounds (each: SET and GET, each client). */
    val throughputRounds: Int,
    /** Each throughput measurement runs this long uncounted first... */
    val roundWarmup: Duration,
    /** ...and then counts completed operations for this long. */
    val roundDuration: Duration,
    /** Requests per redis-benchmark test (unpipelined; ten times as many with -P 16). */
    val redisBenchmarkRequests: Int,
    /** Rounds of the pipeline benchmark (each: every client at every depth once), after one warm-up pass. */
    val pipelineRounds: Int,
    /**
     * SETs per pipeline measurement, a multiple of every depth so that each window is full; enough for a
     * measurement of about 1 to 3 s on the documented machine, long against one window and the timer.
     */
    val pipelineCommands: Int,
    /** Rounds of the pub/sub throughput benchmark (each: both subscribers once), after one warm-up pass. */
    val pubsubRounds: Int,
    /** Messages per pub/sub measurement: about 1 to 3 s on the documented machine. */
    val pubsubMessages: Int,
    /** Manual failovers under a Picket listener, each timed from `+switch-master` to the listener resubscribed. */
    val pubsubFailovers: Int,
    /** Rounds of the lock benchmark (each: both clients uncontended, then both contended), after one warm-up pass. */
    val lockRounds: Int,
    /** Each uncontended lock measurement counts acquire-and-release pairs of one caller for this long. */
    val lockDuration: Duration,
    /** Callers taking the same lock in turn in the contended measurement (coroutines for Picket, threads else). */
    val lockWaiters: Int,
    /** Hand-offs timed per contended measurement, from one holder's release to the next holder's acquire. */
    val lockHandoffs: Int,
    /** How long each holder of the contended lock keeps it before releasing. */
    val lockHold: Duration,
    /** Rounds of the queue benchmark (each: every client once), after [mqWarmup] of each client. */
    val mqRounds: Int = 5,
    /** How long each client of the queue benchmark runs passes of a quarter the messages, uncounted, first. */
    val mqWarmup: Duration = Duration.ofSeconds(15),
    /** Messages per queue measurement (enqueue → handled → acknowledged). */
    val mqMessages: Int = 20_000,
    /** Handlers of the consumer, and enqueues the producer keeps in flight. */
    val mqHandlers: Int = 32,
    /** How long the master's command rate is counted, without and with an idle worker. */
    val mqIdleWindow: Duration = Duration.ofSeconds(10),
    /** The queue and bus benchmarks' clients share this JVM instead of running in JVMs of their own (comparison). */
    val oneJvm: Boolean = false,
    /** Rounds of the bus benchmark (each: every client once), after [busWarmup] of each client. */
    val busRounds: Int = 5,
    /** How long each client of the bus benchmark runs passes of a quarter the calls, uncounted, first. */
    val busWarmup: Duration = Duration.ofSeconds(15),
    /** Round-trip calls per bus measurement. */
    val busCalls: Int = 20_000,
    /** Calls the one caller keeps in flight, and the workers serving them. */
    val busConcurrency: Int = 64,
    val busWorkers: Int = 4,
    /**
     * The sentinels' INFO period (`TopologyConfig.sentinelInfoPeriod`): null, Sentinel's own 10 s, for measurements
     * (how long a demoted master keeps accepting writes depends on it); the smoke run takes the test kit's 1 s.
     */
    val sentinelInfoPeriod: Duration? = null,
    /** The monitor benchmark's standalone nodes, each polled once per [monitorInterval]. */
    val monitorNodes: Int = 50,
    val monitorInterval: Duration = Duration.ofSeconds(1),
    /** Rounds of the monitor benchmark (each: both clients), and how long each measurement runs. */
    val monitorRounds: Int = 2,
    val monitorDuration: Duration = Duration.ofSeconds(20),
    /**
     * Rounds of the Java-path benchmark (each: SET and GET, each client), with [callers] platform threads and then
     * [javaVirtualThreads] virtual threads; each client warms up for [warmup] per operation first.
     */
    val javaRounds: Int = 6,
    val javaVirtualThreads: Int = 1_000,
    /** A JDK ≥ 21 for the virtual threads when this JVM is older; null: look under `/usr/lib/jvm`. */
    val javaVirtualJdk: String? = null,
) {
    companion object {
        const val CONNECTIONS = "connections"
        const val THROUGHPUT = "throughput"
        const val PIPELINE = "pipeline"
        const val PUBSUB = "pubsub"
        const val LOCK = "lock"
        const val FAILOVER = "failover"
        const val MQ = "mq"
        const val MONITOR = "monitor"
        const val BUS = "bus"
        const val JAVA = "java"
        val ALL = setOf(CONNECTIONS, THROUGHPUT, JAVA, PIPELINE, PUBSUB, LOCK, MQ, BUS, FAILOVER, MONITOR)

        fun full(failoverRuns: Int = 5): Settings =
            Settings(
                failoverRuns = failoverRuns,
                beforeFault = Duration.ofSeconds(1),
                afterSwitch = Duration.ofSeconds(8),
                quiet = Duration.ofSeconds(3),
                maxQuiet = Duration.ofSeconds(40),
                commandTimeout = Duration.ofSeconds(2),
                connectionSpecs = 10,
                lettuceConnections = 10,
                callers = 50,
                warmup = Duration.ofSeconds(5),
                throughputRounds = 8,
                roundWarmup = Duration.ofMillis(500),
                roundDuration = Duration.ofMillis(2_500),
                redisBenchmarkRequests = 200_000,
                pipelineRounds = 5,
                pipelineCommands = 400_000,
                pubsubRounds = 5,
                pubsubMessages = 200_000,
                pubsubFailovers = 3,
                lockRounds = 5,
                lockDuration = Duration.ofSeconds(2),
                lockWaiters = 16,
                lockHandoffs = 2_000,
                lockHold = Duration.ofMillis(1),
            )

        /**
         * One failover of each kind, one short throughput round, one round of short pipelines (two windows at the
         * deepest), one round of 20,000 pub/sub messages and one failover under a listener, one round of 300 ms
         * uncontended locking and 100 hand-offs between 16 waiters, one round of 2,000 queue messages per client:
         * checks the machinery, not the figures.
         */
        fun smoke(): Settings =
            Settings(
                // The bus and monitor benchmarks are run by hand only (the suite's time budget; the monitor's starts
                // 50 nodes of its own), the Java path's by JavaPathSpec. The queue's runs briefly: its clients are
                // child JVMs, driven over pipes.
                benchmarks = ALL - BUS - MONITOR - JAVA,
                mqRounds = 1,
                mqWarmup = Duration.ofMillis(200),
                mqMessages = 2_000,
                mqIdleWindow = Duration.ofSeconds(1),
                failoverRuns = 1,
                beforeFault = Duration.ofMillis(500),
                afterSwitch = Duration.ofSeconds(3),
                quiet = Duration.ofSeconds(1),
                maxQuiet = Duration.ofSeconds(5),
                commandTimeout = Duration.ofSeconds(2),
                connectionSpecs = 3,
                lettuceConnections = 2,
                callers = 50,
                warmup = Duration.ofMillis(500),
                throughputRounds = 1,
                roundWarmup = Duration.ofMillis(200),
                roundDuration = Duration.ofSeconds(1),
                redisBenchmarkRequests = 10_000,
                pipelineRounds = 1,
                pipelineCommands = 2_000,
                pubsubRounds = 1,
                pubsubMessages = 20_000,
                pubsubFailovers = 1,
                lockRounds = 1,
                lockDuration = Duration.ofMillis(300),
                lockWaiters = 16,
                lockHandoffs = 100,
                lockHold = Duration.ofMillis(1),
                sentinelInfoPeriod = Duration.ofSeconds(1),
            )
    }
}
