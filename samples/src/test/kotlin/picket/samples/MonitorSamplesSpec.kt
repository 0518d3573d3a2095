package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldMatch
import io.kotest.matchers.string.shouldStartWith
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/** The monitor's samples: the example server queried by the command-line client, and the Java sample. */
class MonitorSamplesSpec :
    FunSpec({
        test("the example server answers the command-line client: INFO, errors, the Prometheus text") {
            InfoServer.serve(0) { uri ->
                val masters = client("--url=$uri", "--role=master --key=role,used_memory")
                masters.status shouldBe 0
                masters.lines[0] shouldMatch Regex("""127\.0\.0\.1:\d+ {2}master {2}info age \d+\.\d\d s""")
                // In the server's order: memory, then replication.
                masters.lines[1] shouldMatch Regex("""    used_memory = \d+""")
                masters.lines[2] shouldBe "    role = \"master\""
                masters.lines.size shouldBe 3

                val all = client("--url=$uri", "--key=role", "--refresh")
                // Six nodes; sentinels have no 'role' field (their INFO says redis_mode:sentinel).
                all.lines.count { it.startsWith("127.0.0.1:") } shouldBe 6
                all.lines.count { it.startsWith("    role = ") } shouldBe 3
                all.lines.filter { it.startsWith("    role = ") }.toSet() shouldBe
                    setOf("    role = \"master\"", "    role = \"slave\"")

                val unknown = client("--url=$uri", "--node=10.9.9.9:1")
                unknown.status shouldBe 1
                unknown.lines shouldBe
                    listOf("error 404: UnknownNodeException: node '10.9.9.9:1' is not in the registry (6 nodes are)")

                val metrics = client("--url=$uri", "--metrics")
                metrics.status shouldBe 0
                metrics.lines shouldContain "# TYPE picket_redis_up gauge"
                metrics.lines.count { it.startsWith("picket_redis_up{") } shouldBe 6
            }
        }

        test("the Java monitor sample finds the nodes, queries, refreshes and gets a typed error") {
            val lines = captureOutput { MonitorFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "nodes added: 5",
                    "refreshed: info age below 1 s: true",
                    "unknown node: node '10.9.9.9:1' is not in the registry (5 nodes are)",
                )
            lines.single { it.startsWith("master ") } shouldStartWith "master 127.0.0.1:"
            lines.single { it.startsWith("master ") }.endsWith(" says role=master") shouldBe true
        }
    })

private class Run(
    val status: Int,
    val lines: List<String>,
)

private fun client(vararg args: String): Run {
    val buffer = ByteArrayOutputStream()
    val status = InfoClient.run(arrayOf(*args), PrintStream(buffer, true, Charsets.UTF_8))
    val lines = buffer.toString(Charsets.UTF_8).lines().filter { it.isNotEmpty() }
    lines.forEach(::println)
    return Run(status, lines)
}
