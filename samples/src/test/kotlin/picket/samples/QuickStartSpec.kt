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
 * and the Java samples that take a topology's sentinels as arguments ([QueueAdminFromJava], [LockHolderFromJava]).
 */
class QuickStartSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val master = TopologyConfig.DEFAULT_MASTER_NAME
        val sentinels = { topology.sentinels.map { "${it.host}:${it.port}" } }

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
                // The listener, registered by the builder, saw the group's first resolution.
                lines shouldContain "resolved $master"
                lines.last() shouldBe "INCR -> 1, GET from a replica -> 1, PING -> PONG"
            }

        test("the Java pair sample warms up, pairs, disconnects, reports status and sweeps")
            .config(timeout = 60.seconds) {
                topology.awaitMaster(master)
                val lines = captureOutput { PairFromJava.main(sentinels().toTypedArray()) }
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
                topology.awaitMaster(master)
                val lines = captureOutput { QueueAdminFromJava.main(sentinels().toTypedArray()) }
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
                topology.awaitMaster(master)
                val lines = captureOutput { LockHolderFromJava.main(sentinels().toTypedArray()) }
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
