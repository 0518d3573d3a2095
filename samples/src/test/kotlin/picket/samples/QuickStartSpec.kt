package picket.samples

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldMatch
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.io.File
import kotlin.time.Duration.Companion.seconds

/**
 * The READMEs' openings run here against one real topology, and each README shows exactly its sample's code, so
 * that neither rots: the root README's five-minute start ([QuickStart]), sentinel/README.md's ([SentinelFromJava],
 * with the rest of that README's Java forms in [PairFromJava]) and core/README.md's direct mode ([DirectFromJava]);
 * and the Java samples that take a topology's sentinels as arguments ([QueueAdminFromJava], [LockHolderFromJava],
 * [CodecFromJava], [SharedResourcesFromJava], [RemoveGroupFromJava], [QueueOptionsFromJava], [LockAsyncFromJava],
 * [MonitorServerFromJava]): none of them needs a topology of its own.
 */
class QuickStartSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val master = TopologyConfig.DEFAULT_MASTER_NAME
        val sentinels = { topology.sentinels.map { "${it.host}:${it.port}" } }

        /** What a sample that takes the sentinels as its arguments prints, once the master is settled. */
        fun output(main: (Array<String>) -> Unit): List<String> {
            topology.awaitMaster(master)
            return captureOutput { main(sentinels().toTypedArray()) }
        }

        test("the quick start writes through Sentinel and reads its write back from a replica or the master")
            .config(timeout = 60.seconds) {
                topology.awaitMaster(master)
                val uri = "redis-sentinel://" + sentinels().joinToString(",") + "#" + master
                val lines = captureOutput { QuickStart.main(arrayOf(uri)) }
                lines shouldHaveSize 1
                // Read-your-writes: a replica that already has the write, else the master; never a stale null.
                lines.single() shouldMatch "hello from a (slave|master)"
            }

        test("the sentinel README's opening counts on the master, reads the count back from a replica, pings by URI")
            .config(timeout = 60.seconds) {
                topology.awaitMaster(master)
                val (first, second) = sentinels()
                val lines = captureOutput { SentinelFromJava.main(arrayOf(first, second, master)) }
                // The listener, registered by the builder, saw the group's first resolution. It prints on a handler
                // thread, so its lines (a second one for the URI's group) may come before or after the sample's own.
                lines shouldContain "resolved $master"
                lines.filterNot { it == "resolved $master" } shouldBe
                    listOf("INCR -> 1, GET from a replica -> 1, PING -> PONG")
            }

        test("the Java pair sample warms up, pairs, disconnects, reports status and sweeps")
            .config(timeout = 60.seconds) {
                val lines = output(PairFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "warm-up: MasterNameUnknownException for no-such-master",
                        "pair: write on the master, read on a slave, same replica again: true",
                        "after disconnect: null",
                        "replica after the next read: true",
                        "status: 1 subscription (economy), master cached true",
                        "sweep dropped 0 masters",
                    )
            }

        test("the Java queue admin sample inspects, extends, re-queues, clears and listens until stopped")
            .config(timeout = 90.seconds) {
                val lines = output(QueueAdminFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "messageStatus -> DELAYED, next month",
                        "lease extended: true",
                        "metrics: succeeded 1, dead-lettered 1",
                        "requeueAllDead -> 1",
                        "queueNames -> [invoices]",
                        "cleared: ready 1, delayed 1",
                        "listened: one, two",
                        "stopped: true",
                    )
            }

        test("the Java lock holder sample sees the holder, extends by hand and releases")
            .config(timeout = 60.seconds) {
                val lines = output(LockHolderFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "holder of a free lock: null",
                        "holder's token is the lease's: true",
                        "extended to a minute: true, same token: true",
                        "remaining now above 2 s: true",
                        "released: true",
                        "holder after release: null",
                    )
            }

        test("the Java codec sample round-trips every byte value and a record, blocking and as a future")
            .config(timeout = 60.seconds) {
                val lines = output(CodecFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "bytes: blocking round trip exact: true, future round trip exact: true, STRLEN 256",
                        "record: Point[x=-7, y=1048576], equal: true, future equal: true, stored in 8 bytes",
                    )
            }

        test("the Java shared-resources sample runs handlers on its executor and closes in order")
            .config(timeout = 60.seconds) {
                val lines = output(SharedResourcesFromJava::main)
                lines shouldHaveSize 6
                // kotlinx's debug mode (on in the specs) adds the coroutine to a thread's name while it runs one.
                lines[0] shouldMatch "listener ran on app-handler-\\d( @.*)?"
                lines[1] shouldMatch "async transaction block ran on app-handler-\\d( @.*)?"
                lines.drop(2) shouldContainExactly
                    listOf(
                        "closed instance: PicketClosedException",
                        "other instance still reads: [1, 2]",
                        "executor left running by the instances: true",
                        "resources shut down: true, executor terminated: true",
                    )
            }

        test("the Java remove-group sample removes a group and a call on it throws SentinelGroupUnknownException")
            .config(timeout = 60.seconds) {
                val lines = output(RemoveGroupFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "removed: true, again: false, declared: [orders]",
                        "blocking: SentinelGroupUnknownException: sentinel group 'reports' is not declared " +
                            "(declared: orders)",
                        "future: SentinelGroupUnknownException for group reports",
                        "status: SentinelGroupUnknownException",
                        "the other group still serves: monday",
                    )
            }

        test("the Java queue options sample enqueues durably, updates, debounces, requeues and recovers")
            .config(timeout = 90.seconds) {
                val lines = output(QueueOptionsFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "durable enqueue -> ADDED",
                        "on the slave at once: order 1",
                        "two replicas asked: DurabilityException, confirmed by 1 of 2; queued all the same: QUEUED",
                        "same id again -> ALREADY_QUEUED",
                        "update -> UPDATED, message now hi",
                        "debounce -> UPDATED, due about 9 minutes later: true",
                        "while handled -> IN_FLIGHT, with requeue -> REQUEUE_SCHEDULED",
                        "handled: rebuild v1, then rebuild v2",
                        "requeueDead([imp-1, imp-9]) -> 1",
                        "imp-1 QUEUED, attempts 0, last error java.lang.IllegalArgumentException: bad row in imp-1; " +
                            "ready 1, dead 1",
                        "recover -> 2: [left 1, left 2], processing left 0",
                    )
            }

        test("the Java async lock sample holds a lock until its stage completes and acquires durably")
            .config(timeout = 60.seconds) {
                val lines = output(LockAsyncFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "held past its hold time: true",
                        "another acquire meanwhile: null",
                        "another async withLock: LockNotAcquiredException: lock 'export' not acquired within 0 ms: " +
                            "held by another owner",
                        "withLockOrNull meanwhile: null",
                        "withLock -> exported, holder after: null",
                        "durable lease on the slave at once: true",
                        "released: true",
                        "two replicas asked: DurabilityException, confirmed by 1 of 2; holder after: null",
                    )
            }

        test("the Java monitor server sample serves a query over HTTP, names an unknown node and stops")
            .config(timeout = 60.seconds) {
                val lines = output(MonitorServerFromJava::main)
                lines shouldContainExactly
                    listOf(
                        "registry listener: 5 nodes added by Sentinel's watcher",
                        "registry listener: 127.0.0.1:1 added true, removed true",
                        "GET /info?role=master&key=role -> 200, true",
                        "GET /info?node=10.9.9.9:1 -> 404, true",
                        "after stop: ConnectException",
                    )
            }

        test("the core README's opening writes and reads on one node directly, and names a bad port") {
            val node = topology.awaitMaster(master)
            val lines = captureOutput { DirectFromJava.main(arrayOf(node.host, node.port.toString())) }
            lines shouldHaveSize 2
            lines[0] shouldBe "SET -> OK, GET -> hello, in database 1 -> 0"
            lines[1] shouldMatch "InvalidSpecException: .*70000.*"
        }

        test("each README shows its sample's code, line for line") {
            readmeShows("README.md", "QuickStart.java") shouldBe true
            readmeShows("sentinel/README.md", "SentinelFromJava.java") shouldBe true
            readmeShows("core/README.md", "DirectFromJava.java") shouldBe true
        }
    })

/** Whether [readme] holds the lines of [sample] between its `// README: start` and `// README: end`, unindented. */
private fun readmeShows(
    readme: String,
    sample: String,
): Boolean {
    val root =
        generateSequence(File("").absoluteFile) { it.parentFile }.first {
            File(it, "README.md").isFile && File(it, "samples").isDirectory
        }
    val lines =
        File(root, "samples/src/main/java/picket/samples/$sample")
            .readLines()
            .dropWhile { "// README: start" !in it }
            .drop(1)
            .takeWhile { "// README: end" !in it }
    val margin = lines.filter { it.isNotBlank() }.minOf { line -> line.takeWhile { it == ' ' }.length }
    val shown = lines.joinToString("\n") { it.drop(margin) }
    return shown in File(root, readme).readText()
}
