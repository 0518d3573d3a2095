package picket.samples

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * The Java failover sample: withConn, pub/sub, the queue, a lock and a bus call from Java, before and after a real
 * `SENTINEL FAILOVER`, each on the new master afterwards, with no error and nothing lost.
 */
class FailoverFromJavaSpec :
    FunSpec({
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val uri =
            "redis-sentinel://" + topology.sentinels.joinToString(",") { "${it.host}:${it.port}" } + "#" + masterName

        test("every module answers from Java before and after a manual failover").config(timeout = 120.seconds) {
            val before = topology.awaitMaster(masterName)
            val lines =
                captureOutput {
                    FailoverFromJava.run(uri) {
                        topology.failover(masterName)
                        topology.awaitMaster(masterName, notEqualTo = before, timeout = Duration.ofSeconds(30))
                    }
                }
            lines.filterNot { it.startsWith("token") } shouldBe
                listOf(
                    "before: INCR -> 1 on a master; heard before; handled before; lock token true; Adder.add -> 42",
                    "after: INCR -> 2 on a master; heard after; handled after; lock token true; Adder.add -> 42",
                )
            val tokens = lines.filter { it.startsWith("token") }.map { it.substringAfter(": ").toLong() }
            // Fencing tokens grow across the failover (the new master's config-epoch is higher).
            tokens[1] shouldBeGreaterThan tokens[0]
        }
    })
