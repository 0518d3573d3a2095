package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import picket.core.ConnSpec
import picket.core.NodeConnectionException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SentinelsUnreachableException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.AclUser
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension

/** Passwords on data nodes and sentinels, an ACL user, and sentinels discovered with the group's credentials. */
class AuthSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 1
                dataPassword = "data-secret"
                sentinelPassword = "sentinel-secret"
                aclUser = AclUser("app", "app-secret")
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }

        test("the ACL user and the default user's password both work through password-protected sentinels") {
            picket.setSentinelGroups("auth" to topology.sentinelGroup(password = "sentinel-secret"))
            val acl =
                ConnSpec(sentinelGroup = "auth", masterName = masterName, username = "app", password = "app-secret")
            picket.withConn(acl) { aclWhoami() } shouldBe "app"
            picket.withConn(acl.copy(username = null, password = "data-secret")) { aclWhoami() } shouldBe "default"
        }

        test("a wrong sentinel password names every sentinel and its refusal, never the password") {
            Picket().use { wrong ->
                wrong.setSentinelGroups("auth" to topology.sentinelGroup(password = "not-the-sentinel-secret"))
                val log = EventLog(wrong)
                val error =
                    shouldThrow<SentinelsUnreachableException> {
                        wrong.withConn(
                            ConnSpec(sentinelGroup = "auth", masterName = masterName, password = "data-secret"),
                        ) { ping() }
                    }
                error.failures.keys shouldContainExactlyInAnyOrder topology.sentinels.map { it.asAddress }
                error.message shouldContain "WRONGPASS"
                error.message shouldNotContain "not-the-sentinel-secret"
                // One error per sentinel, then the failure of the resolution as a whole.
                val resolutionFailed = log.await<PicketEvent.ResolutionFailed>()
                resolutionFailed.cause shouldBe error
                log.ofType<PicketEvent.SentinelError>() shouldHaveSize 3
                val errorsAt =
                    log.events
                        .withIndex()
                        .filter { it.value is PicketEvent.SentinelError }
                        .map { it.index }
                errorsAt.all { it < log.events.indexOf(resolutionFailed) } shouldBe true
            }
        }

        test("a wrong data node password is a connection error naming the master, never the password") {
            val master = topology.awaitMaster(masterName)
            val error =
                shouldThrow<NodeConnectionException> {
                    picket.withConn(
                        ConnSpec(sentinelGroup = "auth", masterName = masterName, password = "wrong-data-pw"),
                    ) { ping() }
                }
            error.address shouldBe master.asAddress
            error.message shouldContain "cannot connect to ${master.asAddress} for auth/$masterName"
            error.message shouldNotContain "wrong-data-pw"
        }

        test("sentinels discovered from one configured sentinel inherit its credentials and are subscribed to") {
            Picket().use { discovering ->
                val first = topology.sentinels.first().asAddress
                discovering.setSentinelGroups("one" to SentinelGroup(listOf(first), password = "sentinel-secret"))
                val log = EventLog(discovering)
                discovering.withConn(
                    ConnSpec(sentinelGroup = "one", masterName = masterName, password = "data-secret"),
                ) { ping() }
                log.await<PicketEvent.SentinelsRefreshed>().sentinels shouldContainExactlyInAnyOrder
                    topology.sentinels.map { it.asAddress }
                within(15) {
                    discovering.status("one").subscriptions shouldBe
                        topology.sentinels.associate { it.asAddress to true }
                }
            }
        }
    })
