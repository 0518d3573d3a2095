package picket.bench

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeGreaterThanOrEqual
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.doubles.shouldBeLessThanOrEqual
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.maps.shouldContainKey
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain

/**
 * A very short run of every benchmark (one failover of each kind, one 1-second throughput round, one round of
 * 2,000-SET pipelines, one round of 20,000 pub/sub messages and one failover under a listener, one round of
 * uncontended locking and of 100 lock hand-offs against Redisson, one round of 2,000 queue messages per client, each
 * in a JVM of its own), so that the benchmarks never rot. It checks that the measuring machinery yields sane values,
 * never how fast anything is.
 */
class BenchSmokeSpec :
    FunSpec({
        test("every benchmark runs and yields sane figures") {
            val results = Bench.run(Settings.smoke()) { println("[bench smoke] $it") }

            val connections = results.connections.shouldNotBeNull()
            connections shouldHaveSize 4
            connections.forEach { phase ->
                phase.perSentinel shouldHaveSize 3
                phase.perSentinel.forEach { it shouldBeGreaterThanOrEqual 0 }
                phase.namedPicket.indices.forEach {
                    phase.namedPicket[it] shouldBeLessThanOrEqual phase.perSentinel[it]
                }
            }
            // Each client holds some sentinel connection while counted, and Picket's carry its name.
            connections.forEach { it.total shouldBeGreaterThan 0 }
            connections.take(2).forEach { it.namedPicket.sum() shouldBeGreaterThan 0 }

            val throughput = results.throughput.shouldNotBeNull()
            // Three clients (Picket default, Picket without parking or loss tracking, Lettuce) times SET and GET.
            throughput.rounds shouldHaveSize 6
            throughput.rounds.forEach { it.opsPerSecond shouldBeGreaterThan 0.0 }
            for (op in Op.entries) {
                Report.roundRatios(throughput, op).single() shouldBeGreaterThan 0.0
            }
            if (findOnPath("redis-benchmark") != null) {
                val redisBenchmark = throughput.redisBenchmark.shouldNotBeNull()
                redisBenchmark.map { it.test to it.pipeline } shouldContainExactly
                    listOf("SET" to 1, "GET" to 1, "SET" to 16, "GET" to 16)
                redisBenchmark.forEach { it.opsPerSecond shouldBeGreaterThan 0.0 }
            }

            val pipeline = results.pipeline.shouldNotBeNull()
            val redisBenchmarkOnPath = findOnPath("redis-benchmark") != null
            pipeline.redisBenchmark shouldBe redisBenchmarkOnPath
            pipeline.depths shouldBe PipelineBench.DEPTHS
            // Each JVM client at each depth, redis-benchmark at its one depth.
            pipeline.rounds shouldHaveSize 2 * PipelineBench.DEPTHS.size + if (redisBenchmarkOnPath) 1 else 0
            pipeline.rounds.forEach {
                it.commands shouldBe Settings.smoke().pipelineCommands
                it.opsPerSecond shouldBeGreaterThan 0.0
            }
            val pipelineReport = PipelineReport(pipeline)
            for (depth in PipelineBench.DEPTHS) {
                pipelineReport.roundRatios(depth).single() shouldBeGreaterThan 0.0
            }
            if (redisBenchmarkOnPath) {
                pipelineReport
                    .roundRatios(PipelineBench.REDIS_BENCHMARK_DEPTH, Report.REDIS_BENCHMARK_PIPELINE)
                    .single() shouldBeGreaterThan 0.0
            }

            val pubsub = results.pubsub.shouldNotBeNull()
            // Each subscriber once; every message arrived, or the run would have failed.
            pubsub.rounds.map { it.client } shouldContainExactlyInAnyOrder
                listOf(Report.PICKET_PUBSUB, Report.LETTUCE_PUBSUB)
            pubsub.rounds.forEach {
                it.messages shouldBe Settings.smoke().pubsubMessages
                it.messagesPerSecond shouldBeGreaterThan 0.0
            }
            val pubsubReport = PubSubReport(pubsub)
            pubsubReport.roundRatios().single() shouldBeGreaterThan 0.0
            pubsub.resubscribes shouldHaveSize Settings.smoke().pubsubFailovers
            pubsub.resubscribes.forEach { run ->
                run.newMaster shouldNotBe run.oldMaster
                run.failoverToSwitchMs shouldBeGreaterThan 0.0
                // Resubscribed after the switch (the switch wakes the listener), within the bench's resume timeout.
                run.switchToResumedMs shouldBeGreaterThan 0.0
                run.switchToResumedMs shouldBeLessThan 30_000.0
                run.gapMs shouldBeGreaterThan 0.0
                run.reason.shouldNotBeNull()
            }
            pubsubReport.switchToResumedMs().second.shouldNotBeNull() shouldBeGreaterThan 0.0

            val lock = results.lock.shouldNotBeNull()
            lock.redisson shouldNotBe "?"
            // Each client once in each measurement.
            lock.uncontended.map { it.client } shouldContainExactlyInAnyOrder
                listOf(Report.PICKET_LOCK, Report.REDISSON_LOCK)
            lock.uncontended.forEach {
                it.pairs shouldBeGreaterThan 0L
                it.pairsPerSecond shouldBeGreaterThan 0.0
            }
            lock.contended.map { it.client } shouldContainExactlyInAnyOrder
                listOf(Report.PICKET_LOCK, Report.REDISSON_LOCK)
            lock.contended.forEach { round ->
                // Exactly the hand-offs wanted, each a release and an acquire apart, none a waiter's whole wait.
                round.handoffsMs shouldHaveSize Settings.smoke().lockHandoffs
                round.sameCaller shouldHaveSize Settings.smoke().lockHandoffs
                round.toOtherCallerMs shouldHaveSize Settings.smoke().lockHandoffs - round.toSameCaller
                round.handoffsMs.forEach {
                    it shouldBeGreaterThan 0.0
                    it shouldBeLessThan LockBench.WAIT_FOR.toMillis().toDouble()
                }
            }
            val lockReport = LockReport(lock)
            lockReport.roundRatios().single() shouldBeGreaterThan 0.0
            for (client in listOf(Report.PICKET_LOCK, Report.REDISSON_LOCK)) {
                val handoffs = lockReport.handoffsMs(client)
                percentile(handoffs, LockBench.P50).shouldNotBeNull() shouldBeLessThanOrEqual
                    percentile(handoffs, LockBench.P99).shouldNotBeNull()
            }

            // Each queue client ran in its own JVM and reported its rate and its CPU over the pipe.
            val mq = results.mq.shouldNotBeNull()
            mq.rounds.map { it.client } shouldContainExactly listOf(MqBench.PICKET, MqBench.PLAIN, MqBench.REDISSON)
            mq.rounds.forEach {
                it.messages shouldBe Settings.smoke().mqMessages
                it.perSecond shouldBeGreaterThan 0.0
                it.serverMicros shouldBeGreaterThan 0.0
                it.clientMicros shouldBeGreaterThan 0.0
            }
            mq.idleWorkerCalls shouldContainKey "evalsha"

            val failovers = results.failovers.shouldNotBeNull()
            failovers.map { it.fault } shouldBe listOf(Fault.MANUAL, Fault.KILL)
            failovers.forEach { run ->
                run.faultToSwitchMs shouldBeGreaterThan 0.0
                run.lastSwitchMs shouldBeGreaterThanOrEqual 0.0
                run.settledMs shouldBeGreaterThan run.faultToSwitchMs
                run.stoppedMs shouldBeGreaterThan run.faultToSwitchMs
                // A manual run's loops stop about 4 s after the command, well before the old master is converted
                // (about 10 s): its keys are read while it still holds only what it executed.
                run.directKnown shouldBe true
                run.clients.map { it.client } shouldBe
                    listOf(
                        Report.PICKET_DEFAULT,
                        Report.PICKET_NO_PARKING,
                        Report.PICKET_DURABLE,
                        Report.LETTUCE_MR,
                        JavaPathBench.PICKET_JAVA,
                        JavaPathBench.JEDIS,
                    )
                run.clients.forEach { client ->
                    client.writes shouldBeGreaterThan 0
                    client.acknowledged shouldBeGreaterThan 0
                    client.acknowledged + client.errors shouldBe client.writes
                    client.oldMaster.afterSwitch shouldBeGreaterThanOrEqual client.oldMaster.issuedAfterSwitch
                    client.oldMaster.issuedAfterSwitch shouldBeGreaterThanOrEqual 0
                    client.lost shouldBeGreaterThanOrEqual client.oldMaster.afterSwitch
                    (client.oldMaster.lastAckMs == null) shouldBe (client.lost == 0)
                    client.lost shouldBeLessThanOrEqual client.acknowledged
                    client.errorTypes.values.sum() shouldBe client.errors
                    // After the fault and before the loops stopped; negative after +switch-master is allowed (a
                    // client may switch before the first announcement), and both name the same write.
                    (client.faultToNewMs == null) shouldBe (client.switchMs == null)
                    client.faultToNewMs?.let { ms ->
                        ms shouldBeGreaterThan 0.0
                        ms shouldBeLessThanOrEqual run.stoppedMs
                        ms shouldBe (client.switchMs!! + run.faultToSwitchMs plusOrMinus 0.01)
                    }
                    (client.picket == null) shouldBe (client.client in listOf(Report.LETTUCE_MR, JavaPathBench.JEDIS))
                }
                // Picket follows within the 3-second window, so the first write on the new master is found.
                val picket = run.clients.first { it.client == Report.PICKET_DEFAULT }
                picket.faultToNewMs.shouldNotBeNull()
                picket.switchMs.shouldNotBeNull()
                // The leader's +selected-slave parked its blocks, and the switch released them: the parking column
                // is fed.
                picket.picket
                    .shouldNotBeNull()
                    .parkings
                    .map { it.outcome } shouldBe listOf("SWITCHED")
                // Parking is a setting of the group: the instance without it never parks.
                run.clients
                    .first { it.client == Report.PICKET_NO_PARKING }
                    .picket
                    ?.parkings
                    .shouldNotBeNull()
                    .shouldBeEmpty()
            }

            val report = Report.markdown(results)
            report shouldContain "## 1. Failovers under a write loop"
            report shouldContain "First write executed by the new master, medians side by side (ms after the fault)"
            report shouldContain "Acknowledged writes lost per failover, medians side by side (writes)"
            report shouldContain "## 2. Sentinel connections held per process in steady state"
            report shouldContain "## 3. Throughput"
            report shouldContain "## 4. Pipelines"
            report shouldContain "## 5. Pub/sub, one publisher to one subscriber"
            report shouldContain "| `SwitchMaster` → `Resumed` |"
            report shouldContain "## 6. Locks, Picket against Redisson's `RLock`"
            report shouldContain "| p99 |"
            report shouldContain "## 7. Message queue, one producer and one consumer of 32 handlers"
            report.lines().filter { it.startsWith("| ") }.shouldNotBeEmpty()
        }

        test("percentiles take the nearest rank") {
            val values = (100 downTo 1).map { it.toDouble() }
            percentile(values, LockBench.P50) shouldBe 50.0
            percentile(values, LockBench.P99) shouldBe 99.0
            percentile(values, 1.0) shouldBe 100.0
            percentile(listOf(7.0), LockBench.P99) shouldBe 7.0
            percentile(emptyList(), LockBench.P50) shouldBe null
        }
    })
