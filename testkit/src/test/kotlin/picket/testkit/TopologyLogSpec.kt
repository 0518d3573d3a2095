package picket.testkit

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import kotlin.time.Duration.Companion.minutes

/** A normal start and close says nothing that needs action: no WARN line from the test kit. */
class TopologyLogSpec :
    FunSpec({
        test("starting and closing embedded-6.2 topologies logs no WARN line from picket.testkit").config(
            timeout = 3.minutes,
        ) {
            // The embedded 6.2 binary is the case that warned: its sentinels have no SENTINEL DEBUG.
            val config =
                TopologyConfig(binary = RedisBinary.locate(null, ""), replicasPerMaster = 1, sentinels = 3)
            val lines = captureStderr { repeat(2) { Topology.start(config).close() } }
            lines.filter { " WARN picket.testkit" in it }.shouldBeEmpty()
            // Said at INFO once per JVM at most (an earlier spec in this JVM may have said it already).
            lines.count { "have no SENTINEL DEBUG" in it } shouldBeLessThanOrEqual 1
        }
    })

/** Runs [block] and returns the lines it wrote to `System.err`, where slf4j-simple logs. */
private fun captureStderr(block: () -> Unit): List<String> =
    StreamCapture().use { capture ->
        block()
        capture.err()
    }
