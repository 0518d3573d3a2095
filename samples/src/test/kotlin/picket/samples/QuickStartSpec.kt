package picket.samples

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldMatch
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.io.File
import kotlin.time.Duration.Companion.seconds

/**
 * The README's five-minute start runs here against a real topology, and the README shows exactly the sample's code,
 * so that neither rots.
 */
class QuickStartSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val uri =
            "redis-sentinel://" + topology.sentinels.joinToString(",") { "${it.host}:${it.port}" } + "#" +
                TopologyConfig.DEFAULT_MASTER_NAME

        test("the quick start writes through Sentinel and reads its write back from a replica or the master")
            .config(timeout = 60.seconds) {
                topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME)
                val lines = captureOutput { QuickStart.main(arrayOf(uri)) }
                lines shouldHaveSize 1
                // Read-your-writes: a replica that already has the write, else the master; never a stale null.
                lines.single() shouldMatch "hello from a (slave|master)"
            }

        test("the README's Java start is the sample's code, line for line") {
            val root =
                generateSequence(File("").absoluteFile) { it.parentFile }.first {
                    File(it, "README.md").isFile &&
                        File(it, "samples").isDirectory
                }
            val sample =
                File(root, "samples/src/main/java/picket/samples/QuickStart.java")
                    .readLines()
                    .dropWhile { "// README: start" !in it }
                    .drop(1)
                    .takeWhile { "// README: end" !in it }
            val readme = File(root, "README.md").readText()
            val margin = sample.filter { it.isNotBlank() }.minOf { line -> line.takeWhile { it == ' ' }.length }
            val shown = sample.joinToString("\n") { it.drop(margin) }
            (shown in readme) shouldBe true
        }
    })
