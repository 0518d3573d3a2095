package picket.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.lettuce.core.RedisConnectionException

/** Passwords on data nodes, a different one on sentinels, and an ACL user that replication and Sentinel use. */
class AuthTopologySpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 1
                dataPassword = "data-secret"
                sentinelPassword = "sentinel-secret"
                aclUser = AclUser("app", "app-secret")
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME

        test("data nodes refuse clients without a password and accept the default user's and the ACL user's") {
            val master = topology.awaitMaster(masterName)
            shouldThrow<RedisConnectionException> { Clients.on(master) { it.ping() } }
                .cause
                ?.message shouldContain "NOAUTH"
            Clients.on(master, password = "data-secret") { it.ping() } shouldBe "PONG"
            Clients.on(master, username = "app", password = "app-secret") { it.aclWhoami() } shouldBe "app"
            shouldThrow<RedisConnectionException> {
                Clients.on(
                    master,
                    username = "app",
                    password = "wrong",
                ) { it.ping() }
            }
        }

        test("sentinels take their own password, not the data nodes'") {
            val sentinel = topology.sentinels.first()
            shouldThrow<RedisConnectionException> { Clients.on(sentinel, password = "data-secret") { it.ping() } }
            Clients.on(sentinel, password = "sentinel-secret") { it.ping() } shouldBe "PONG"
        }

        test("replication and failover work through the ACL user") {
            val master = topology.awaitMaster(masterName)
            topology.role(topology.dataNodes(masterName).single { it != master }) shouldBe
                NodeRole.Replica(master.address, linkUp = true)
            topology.kill(master)
            topology.awaitMaster(masterName, notEqualTo = master) shouldNotBe master
        }
    })
