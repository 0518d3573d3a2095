package picket.monitor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.InvalidSpecException
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

/** Pure logic: INFO parsing, the registry's semantics, options and the seed's polling rule. No network. */
class RegistryAndParsingSpec :
    FunSpec({
        val reply =
            """
            # Server
            redis_version:7.0.15
            redis_git_sha1:00000000
            run_id:1234567890
            uptime_in_seconds:42

            # Memory
            used_memory:1048576
            mem_fragmentation_ratio:1.25
            maxmemory:9007199254740993
            some_future_field:hello world
            negative_field:-1

            # Replication
            role:master
            slave0:ip=127.0.0.1,port=6380,state=online,offset=9000023,lag=1

            # Commandstats
            cmdstat_get:calls=10,usec=20,usec_per_call=2.00,rejected_calls=0,failed_calls=0

            # Keyspace
            db0:keys=1,expires=0,avg_ttl=0
            """.trimIndent().replace("\n", "\r\n")

        test("INFO is parsed into sections of typed fields; text fields, odd values and unknown fields are kept") {
            val info = NodeInfo.parse(reply)
            info.sections.keys shouldBe setOf("server", "memory", "replication", "commandstats", "keyspace")
            info.long("used_memory") shouldBe 1_048_576L
            info["maxmemory"] shouldBe 9_007_199_254_740_993L
            info["mem_fragmentation_ratio"] shouldBe 1.25
            info["negative_field"] shouldBe -1L
            info["redis_git_sha1"] shouldBe "00000000"
            info["run_id"] shouldBe "1234567890"
            info["redis_version"] shouldBe "7.0.15"
            info["some_future_field"] shouldBe "hello world"
            info["db0"] shouldBe mapOf("keys" to 1L, "expires" to 0L, "avg_ttl" to 0L)
            info["cmdstat_get"] shouldBe
                mapOf(
                    "calls" to 10L,
                    "usec" to 20L,
                    "usec_per_call" to 2.0,
                    "rejected_calls" to 0L,
                    "failed_calls" to 0L,
                )
            info["slave0"] shouldBe
                mapOf("ip" to "127.0.0.1", "port" to 6380L, "state" to "online", "offset" to 9_000_023L, "lag" to 1L)
            info.role shouldBe "master"
            info.sections
                .getValue("memory")
                .keys
                .toList() shouldBe
                listOf("used_memory", "mem_fragmentation_ratio", "maxmemory", "some_future_field", "negative_field")
        }

        test("the registry: add, add again, update, remove unknown, clear; a late subscriber gets the nodes first") {
            val registry = NodeRegistry()
            val events = CopyOnWriteArrayList<RegistryEvent>()
            registry.registerListener { events += it }
            val a = MonitoredNode(Address("10.0.0.1", 6379), Role.MASTER, "m", "g")
            registry.add(a) shouldBe true
            registry.add(a) shouldBe false
            val demoted = a.copy(role = Role.REPLICA)
            registry.add(demoted) shouldBe false
            registry.remove("10.9.9.9:1") shouldBe false
            registry.add(MonitoredNode.of("10.0.0.2:6379")) shouldBe true
            events shouldBe
                listOf(
                    RegistryEvent.Added(a),
                    RegistryEvent.Updated(demoted, a),
                    RegistryEvent.Added(MonitoredNode.of("10.0.0.2:6379")),
                )
            val late = withTimeout(5.seconds) { registry.changes.take(2).toList() }
            late shouldBe
                listOf(
                    RegistryEvent.Added(demoted, initial = true),
                    RegistryEvent.Added(MonitoredNode.of("10.0.0.2:6379"), true),
                )
            registry.clear() shouldBe 2
            registry.nodes() shouldBe emptyList()
            events.takeLast(2).map { it::class } shouldBe
                listOf(RegistryEvent.Removed::class, RegistryEvent.Removed::class)
        }

        test(
            "several sources: a node stays while one source still reports it; conflicting roles do not alternate, " +
                "the first-ranked source's description holds",
        ) {
            val registry = NodeRegistry()
            val events = CopyOnWriteArrayList<RegistryEvent>()
            val one = registry.sink(0)
            val two = registry.sink(1)
            val node = MonitoredNode(Address("10.0.0.1", 6379), Role.MASTER)
            val other = node.copy(role = Role.REPLICA)
            one.replaceAll(listOf(node))
            registry.registerListener { events += it }
            // Two watchers that disagree, reporting in turn: the first-ranked one's role holds, no event at all.
            repeat(3) {
                two.replaceAll(listOf(other))
                one.replaceAll(listOf(node))
            }
            registry.node(node.id) shouldBe node
            events shouldBe listOf(RegistryEvent.Added(node, initial = true))
            // When the first-ranked source stops reporting it, the other's description takes over: one Updated.
            one.remove(node.id)
            registry.node(node.id) shouldBe other
            events.last() shouldBe RegistryEvent.Updated(other, node)
            one.add(node)
            registry.node(node.id) shouldBe node
            // By hand ranks above every watcher.
            val byHand = node.copy(masterName = "by-hand")
            registry.add(byHand) shouldBe false
            one.replaceAll(listOf(node))
            registry.node(node.id) shouldBe byHand
            registry.remove(node.id) shouldBe true
            // A report without the role does not hide one that has it, whatever the ranks.
            one.add(MonitoredNode(node.address))
            two.add(other)
            registry.node(node.id) shouldBe other
            two.remove(node.id)
            registry.node(node.id)!!.role shouldBe Role.UNKNOWN
            one.replaceAll(emptyList())
            registry.node(node.id) shouldBe null
        }

        test("the seed's rule: busy jumps to the minimum, idle steps up to the maximum, in between keeps") {
            val policy = ActivityPolicy()
            val min = Duration.ofMillis(500)
            val max = Duration.ofSeconds(3)

            fun ops(n: Long) = NodeInfo.parse("# Stats\ninstantaneous_ops_per_sec:$n\n")
            policy.next(Duration.ofSeconds(2), ops(10), min, max) shouldBe min
            policy.next(Duration.ofSeconds(2), ops(5), min, max) shouldBe Duration.ofMillis(2_500)
            policy.next(Duration.ofMillis(2_800), ops(0), min, max) shouldBe max
            policy.next(Duration.ofSeconds(2), ops(7), min, max) shouldBe Duration.ofSeconds(2)
            MonitorOptions().initialInterval shouldBe min
            // A replica applying its master's writes: its own ops/s is high, but nearly all its input is replication.
            val replica =
                NodeInfo.parse(
                    "# Stats\ninstantaneous_ops_per_sec:10000\ninstantaneous_input_kbps:500.05\n" +
                        "instantaneous_input_repl_kbps:500.00\n",
                )
            policy.activity(replica) shouldBeLessThan 1.0
            policy.next(Duration.ofSeconds(1), replica, min, max) shouldBe Duration.ofMillis(1_500)
            ActivityPolicy(countReplication = true).next(Duration.ofSeconds(1), replica, min, max) shouldBe min
        }

        test("bad options are typed errors naming the value") {
            shouldThrow<InvalidSpecException> {
                MonitorOptions(minInterval = Duration.ofSeconds(5), maxInterval = Duration.ofSeconds(1))
            }.message shouldBe "minInterval (PT5S) is above maxInterval (PT1S)"
            shouldThrow<InvalidSpecException> { MonitorOptions(minInterval = Duration.ZERO) }.message shouldBe
                "monitor minInterval is PT0S, must be > 0"
            shouldThrow<InvalidSpecException> {
                MonitorOptions(
                    commandTimeout = Duration.ofMillis(-1),
                )
            }.message shouldBe
                "monitor commandTimeout is PT-0.001S, must be > 0"
            shouldThrow<InvalidSpecException> {
                ActivityPolicy(
                    busyOpsPerSecond = 1,
                    idleOpsPerSecond = 5,
                )
            }.message shouldBe
                "busyOpsPerSecond (1) is below idleOpsPerSecond (5)"
            shouldThrow<InvalidSpecException> {
                MonitorOptions
                    .builder()
                    .intervals(
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(2),
                    ).initialInterval(Duration.ofSeconds(3))
                    .build()
            }.message shouldBe "initialInterval (PT3S) is outside minInterval..maxInterval (PT1S..PT2S)"
            shouldThrow<InvalidSpecException> { InfoQuery(maxAge = Duration.ofSeconds(-1)) }.message shouldBe
                "maxAge is PT-1S, must be >= 0"
            MonitorOptions(password = "s3cret").toString().contains("s3cret") shouldBe false
            shouldThrow<InvalidSpecException> { MonitoredNode.of("nohost") }.shouldBeInstanceOf<InvalidSpecException>()
        }

        test("the text-format parser used by the specs refuses malformed expositions") {
            PromText
                .parse("# TYPE a gauge\na{x=\"1\\\"\"} 2.5\n")
                .getValue("a")
                .samples
                .single()
                .labels shouldBe
                mapOf("x" to "1\"")
            shouldThrow<IllegalArgumentException> { PromText.parse("a 1\n# TYPE a gauge\n") }
            shouldThrow<IllegalArgumentException> { PromText.parse("a{x=\"1\"} 1\na{x=\"1\"} 2\n") }
            shouldThrow<IllegalStateException> { PromText.parse("a one\n") }
        }
    })
