package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldMatch
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/** Every sample runs here, so none of them rots. */
class SamplesSpec :
    FunSpec({
        test("the demo prints the topology it started and stops it") {
            val lines = captureOutput { Demo.main(emptyArray()) }
            lines.filter { it.startsWith("Picket demo") } shouldHaveSize 1
            lines.single { it.startsWith("binary: ") } shouldMatch
                Regex("""binary: redis-server \d+\.\d+\.\d+ from (PATH|ENVIRONMENT|EMBEDDED) \(.+\)""")
            val nodeLines = lines.filter { it.startsWith("  ") }
            nodeLines shouldHaveSize 6
            nodeLines.count { it.contains("master with 2 replicas") } shouldBe 1
            nodeLines.count { Regex("replica of 127\\.0\\.0\\.1:\\d+, link up").containsMatchIn(it) } shouldBe 2
            nodeLines.count { it.contains("sentinel monitoring mymaster") } shouldBe 3
            lines.last() shouldBe "topology stopped: every process it started has exited"
        }

        test("the Java sample kills the master and sees the sentinels agree on the replica") {
            val lines = captureOutput { TopologyFromJava.main(emptyArray()) }
            lines.single { it.startsWith("master: ") } shouldMatch Regex("""master: mymaster-0 at 127\.0\.0\.1:\d+""")
            lines.single { it.startsWith("after kill -9") } shouldMatch
                Regex("""after kill -9 the sentinels agree on mymaster-1 at 127\.0\.0\.1:\d+""")
        }
    })

private fun captureOutput(block: () -> Unit): List<String> {
    val original = System.out
    val buffer = ByteArrayOutputStream()
    System.setOut(PrintStream(buffer, true, Charsets.UTF_8))
    try {
        block()
    } finally {
        System.setOut(original)
    }
    return buffer.toString(Charsets.UTF_8).lines().filter { it.isNotEmpty() }.also { lines ->
        lines.forEach(original::println)
    }
}
