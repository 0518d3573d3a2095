package picket.testkit

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldStartWith

/** The fallback every fresh machine relies on: the binary from the embedded-redis jar alone, sentinels included. */
class EmbeddedTopologySpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                binary = RedisBinary.locate(null, "")
                replicasPerMaster = 1
            }

        test("a topology runs on the embedded binary when the PATH has no redis-server") {
            topology.binary.source shouldBe RedisBinary.Source.EMBEDDED
            topology.nodes.forEach { node ->
                Clients.on(node) { it.info("server") }.lines().first { it.startsWith("redis_version:") } shouldStartWith
                    "redis_version:6.2"
            }
        }

        test("its sentinels fail over a killed master") {
            val master = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME)
            topology.kill(master)
            val promoted = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME, notEqualTo = master)
            promoted shouldNotBe master
            Clients.on(promoted) { it.set("k", "v") } shouldBe "OK"
        }
    })
