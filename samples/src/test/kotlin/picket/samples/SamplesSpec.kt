package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldMatch
import io.kotest.matchers.string.shouldStartWith
import picket.testkit.RedisBinary

/** Every sample runs here, so none of them rots. */
class SamplesSpec :
    FunSpec({
        test("the demo prints the topology it started and stops it, and logs no warning") {
            val captured = capture { Demo.main(emptyArray()) }
            val lines = captured.out
            // Nothing in the demo needs a user's attention: no WARN line (Lettuce's "Connection is already closed"
            // came at every connection closed twice), in the log or the output.
            (captured.out + captured.err).filter { "WARN" in it || "already closed" in it }.shouldBeEmpty()
            lines.filter { it.startsWith("Picket demo") } shouldHaveSize 1
            lines.single { it.startsWith("binary: ") } shouldMatch
                Regex("""binary: redis-server \d+\.\d+\.\d+ from (PATH|ENVIRONMENT|EMBEDDED) \(.+\)""")
            val nodeLines = lines.filter { it.startsWith("  ") && !it.startsWith("  event: ") }
            nodeLines shouldHaveSize 6
            nodeLines.count { it.contains("master with 2 replicas") } shouldBe 1
            nodeLines.count { Regex("replica of 127\\.0\\.0\\.1:\\d+, link up").containsMatchIn(it) } shouldBe 2
            nodeLines.count { it.contains("sentinel monitoring mymaster") } shouldBe 3
            lines.single { it.startsWith("write on the master:") } shouldBe "write on the master: SET greeting -> OK"
            lines.single { it.startsWith("read from a replica:") } shouldBe
                "read from a replica: GET greeting -> hello (the node says it is 'slave')"
            val pair = lines.single { it.startsWith("pair: ") }
            pair shouldStartWith "pair: write on the master; 6 reads, each followed by a disconnect and a seamless " +
                "reconnect: ["
            // Round robin over the two replicas: both, alternating.
            Regex("""127\.0\.0\.1:\d+""").findAll(pair).map { it.value }.toList().let { nodes ->
                nodes shouldHaveSize 6
                nodes.toSet() shouldHaveSize 2
                nodes.zipWithNext().forEach { (a, b) -> a shouldNotBe b }
            }
            lines.single { it.startsWith("pipeline: ") } shouldBe
                "pipeline: 1000 RPUSH sent together, 1000 replies, the last 1000"
            lines.single { it.startsWith("transaction: ") } shouldBe
                "transaction: WATCH greeting, MULTI, SET, INCR, EXEC -> Committed(replies=[OK, 1])"
            lines.single { it.startsWith("failover: switch to") } shouldMatch
                Regex(
                    "failover: switch to 127\\.0\\.0\\.1:\\d+ seen \\d+ ms after the command; " +
                        "first write .* \\d+ ms after that",
                )
            val parked =
                Regex(
                    "failover: config-epoch \\d+ -> (\\d+); (\\d+) blocks parked for \\d+ ms, then released onto the " +
                        "new master \\(SWITCHED\\); (\\d+) writes acknowledged, (\\d+) lost, 0 errors",
                ).matchEntire(lines.single { it.startsWith("failover: config-epoch") })
            parked.shouldNotBeNull()
            val (epoch, blocks, acknowledged) = parked.destructured
            val lost = parked.groupValues[4]
            epoch.toLong() shouldBeGreaterThan 0L
            blocks.toInt() shouldBeGreaterThan 0
            acknowledged.toInt() shouldBeGreaterThan 10
            // As in ParkingSpec: a block that took its connection just before the leader's +selected-slave can be
            // answered by the old master after the promotion.
            lost.toInt() shouldBeLessThanOrEqual 2
            val lock = lines.single { it.startsWith("lock: two workers") }
            val turns =
                Regex(
                    "([AB]):(\\d+)",
                ).findAll(lock).map { it.groupValues[1] to it.groupValues[2].toLong() }.toList()
            turns shouldHaveSize 6
            turns.count { it.first == "A" } shouldBe 3
            // Waiters of one instance are served in arrival order: the workers take turns.
            turns.map { it.first }.zipWithNext().forEach { (a, b) -> b shouldNotBe a }
            turns.map { it.second }.zipWithNext().forEach { (a, b) -> b shouldBeGreaterThan a }
            lines.single { it.startsWith("pubsub: PUBLISH news ->") } shouldBe
                "pubsub: PUBLISH news -> 1 receiver(s); got channel news: before the failover"
            lines.single { it.startsWith("pubsub: PUBLISH news.sport") } shouldBe
                "pubsub: PUBLISH news.sport; got pattern news.* on news.sport: goal"
            lines.single { it.startsWith("pubsub: the listener resumed") } shouldMatch
                Regex(
                    "pubsub: the listener resumed by itself on 127\\.0\\.0\\.1:\\d+ \\(was 127\\.0\\.0\\.1:\\d+\\), " +
                        "messages of a \\d+ ms window may be missing; got channel news: after the failover",
                )
            lines.single { it.startsWith("typed error:") } shouldStartWith
                "typed error: MasterNameUnknownException: " +
                "no sentinel of group 'demo' monitors a master named 'no-such-master'"
            lines.last() shouldBe "topology stopped: every process it started has exited"
        }

        test("the Java withConn sample writes, counts and reads from a replica") {
            val lines = captureOutput { WithConnFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "SET -> OK",
                    "INCR -> 1",
                    "GET from a replica -> hello from Java",
                    "read-your-writes GET -> 3 items",
                    "transaction -> Committed(replies=[OK])",
                    "pipeline -> [1, 2]",
                    "BLPOP -> job-1",
                    "config-epoch -> 0",
                )
            lines.count { it.startsWith("event: MasterResolved(group=main, masterName=mymaster") } shouldBe 1
        }

        test("the Java pub/sub sample listens, publishes and subscribes while running") {
            val lines = captureOutput { PubSubFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "PUBLISH alerts -> 1 receiver(s)",
                    "received alerts: disk full",
                    "received metrics.cpu: 97%",
                    "received audit: login",
                    "subscriptions: Subscriptions(channels=[alerts, audit], patterns=[metrics.*])",
                )
            lines.count { it.startsWith("event: subscribed to ") } shouldBe 3
        }

        test("the Java lock sample holds past its hold time, is refused a held lock, releases; tokens increase") {
            val lines = captureOutput { LockFromJava.main(emptyArray()) }
            lines.single { it.startsWith("withLock ran") } shouldMatch Regex("withLock ran with fencing token \\d+")
            lines shouldContainAll
                listOf(
                    "second caller: lock 'report' not acquired within 100 ms: held by another owner",
                    "withLockOrNull while held: null",
                    "released: true",
                    "token increased: true",
                    "async acquire and release, token increased: true",
                )
        }

        test("the Java TLS sample writes and reads over TLS, or says why the binary cannot") {
            val lines = captureOutput { TlsFromJava.main(emptyArray()) }
            val reason = RedisBinary.locate().tlsUnsupportedReason
            if (reason == null) {
                lines shouldContainAll listOf("SET over TLS -> OK", "GET over TLS -> 42")
            } else {
                lines shouldContainAll listOf("TLS skipped: $reason")
            }
        }

        test("the Java sample kills the master and sees the sentinels agree on the replica") {
            val lines = captureOutput { TopologyFromJava.main(emptyArray()) }
            lines.single { it.startsWith("master: ") } shouldMatch Regex("""master: mymaster-0 at 127\.0\.0\.1:\d+""")
            lines.single { it.startsWith("after kill -9") } shouldMatch
                Regex("""after kill -9 the sentinels agree on mymaster-1 at 127\.0\.0\.1:\d+""")
        }
    })
