package picket.core

import io.kotest.assertions.throwables.shouldThrowExactly
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import picket.testkit.TopologyExtension
import kotlin.time.Duration.Companion.seconds

/**
 * A `Picket` with core alone on the classpath (this module's tests do not have picket-sentinel): direct specs run
 * through the engine, and declaring a sentinel group says which module is missing.
 */
class PicketWithoutSentinelSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 0
            }
        val node = topology.dataNodes.first()

        test("direct specs run, sentinel groups need picket-sentinel").config(timeout = 30.seconds) {
            Picket().use { picket ->
                val direct = ConnSpec(host = node.host, port = node.port)
                picket.withConn(direct) { incr("without-sentinel") } shouldBe 1L
                picket.blocking().withConn(direct) { it.incr("without-sentinel") } shouldBe 2L

                val error =
                    shouldThrowExactly<InvalidSpecException> {
                        picket.setSentinelGroups("main" to SentinelGroup.of("127.0.0.1:26379"))
                    }
                error.message shouldContain "picket-sentinel"
                picket.sentinelGroups().shouldBeEmpty()

                val sentinelSpec = ConnSpec(sentinelGroup = "main", masterName = "mymaster")
                val refused = shouldThrowExactly<InvalidSpecException> { picket.withConn(sentinelSpec) { ping() } }
                refused.message shouldContain "picket-sentinel"
            }
        }
    })
