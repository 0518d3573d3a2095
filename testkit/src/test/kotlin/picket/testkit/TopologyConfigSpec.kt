package picket.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.time.Duration

class TopologyConfigSpec :
    FunSpec({
        test("defaults describe one master with two replicas and three sentinels") {
            val config = TopologyConfig()
            config.masterNames shouldBe listOf("mymaster")
            config.replicasPerMaster shouldBe 2
            config.sentinels shouldBe 3
            config.quorum shouldBe 2
            config.downAfter shouldBe Duration.ofSeconds(2)
        }

        test("the builder round-trips every value") {
            val config =
                TopologyConfig
                    .builder()
                    .masterNames("a", "b")
                    .replicasPerMaster(1)
                    .sentinels(5)
                    .quorum(3)
                    .downAfter(Duration.ofMillis(3000))
                    .failoverTimeout(Duration.ofSeconds(20))
                    .dataPassword("data")
                    .sentinelPassword("sent")
                    .aclUser(AclUser("app", "pw"))
                    .sentinelInfoPeriod(null)
                    .build()
            val copy = config.toBuilder().build()
            copy.masterNames shouldBe listOf("a", "b")
            copy.replicasPerMaster shouldBe 1
            copy.sentinels shouldBe 5
            copy.quorum shouldBe 3
            copy.downAfter shouldBe Duration.ofMillis(3000)
            copy.failoverTimeout shouldBe Duration.ofSeconds(20)
            copy.dataPassword shouldBe "data"
            copy.sentinelPassword shouldBe "sent"
            copy.aclUser?.username shouldBe "app"
            copy.sentinelInfoPeriod shouldBe null
            TopologyConfig().sentinelInfoPeriod shouldBe Duration.ofSeconds(1)
        }

        test("bad values are refused with a message naming the value") {
            shouldThrow<IllegalArgumentException> { TopologyConfig(masterNames = emptyList()) }
                .message shouldContain "masterNames is empty"
            shouldThrow<IllegalArgumentException> { TopologyConfig(masterNames = listOf("a", "a")) }
                .message shouldContain "duplicates"
            shouldThrow<IllegalArgumentException> { TopologyConfig(masterNames = listOf("my master")) }
                .message shouldContain "'my master'"
            shouldThrow<IllegalArgumentException> { TopologyConfig(replicasPerMaster = -1) }
                .message shouldContain "replicasPerMaster is -1"
            shouldThrow<IllegalArgumentException> { TopologyConfig(sentinels = 3, quorum = 4) }
                .message shouldContain "quorum is 4, must be in 1..3"
            shouldThrow<IllegalArgumentException> { TopologyConfig(downAfter = Duration.ZERO) }
                .message shouldContain "downAfter"
            shouldThrow<IllegalArgumentException> { TopologyConfig(sentinelInfoPeriod = Duration.ZERO) }
                .message shouldContain "sentinelInfoPeriod is PT0S, must be at least 1 ms"
            shouldThrow<IllegalArgumentException> { TopologyConfig(dataPassword = "has space") }
                .message shouldContain "dataPassword"
            shouldThrow<IllegalArgumentException> { AclUser("bad name", "pw") }
                .message shouldContain "'bad name'"
        }

        test("toString never shows a password") {
            val text =
                TopologyConfig(
                    dataPassword = "d4t4",
                    sentinelPassword = "s3nt",
                    aclUser = AclUser("u", "acl9"),
                ).toString()
            text shouldNotContain "d4t4"
            text shouldNotContain "s3nt"
            text shouldNotContain "acl9"
            text shouldContain "***"
        }
    })
