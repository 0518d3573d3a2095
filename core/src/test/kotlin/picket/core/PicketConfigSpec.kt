package picket.core

import io.kotest.assertions.throwables.shouldThrowExactly
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.io.StringReader
import java.time.Duration
import java.util.Properties

/** Groups and specs from properties: every key, defaults, and errors that name the key and never a password. */
class PicketConfigSpec :
    FunSpec({
        fun properties(text: String) = Properties().apply { load(StringReader(text.trimIndent())) }

        test("groups and specs from a properties file, with durations in either form") {
            val config =
                PicketConfig.from(
                    properties(
                        """
                        picket.sentinel-groups.main.sentinels=10.0.0.1:26379, 10.0.0.2:26380
                        picket.sentinel-groups.main.username=watcher
                        picket.sentinel-groups.main.password=sentinel-secret
                        picket.sentinel-groups.main.connect-timeout=500ms
                        picket.sentinel-groups.main.command-timeout=PT1.5S
                        picket.sentinel-groups.main.subscribe-to-all=false
                        picket.sentinel-groups.main.parking-timeout=3s
                        picket.sentinel-groups.main.loss-detection=false
                        picket.sentinel-groups.main.keep-alive=false
                        picket.sentinel-groups.main.tls.jdk-trust=true
                        picket.specs.orders.group=main
                        picket.specs.orders.master-name=mymaster
                        picket.specs.orders.username=app
                        picket.specs.orders.password=data-secret
                        picket.specs.orders.database=2
                        picket.specs.orders.durability=replicas:1
                        picket.specs.orders.durability-timeout=1s
                        picket.specs.orders.idempotent=true
                        picket.specs.reads.group=main
                        picket.specs.reads.master-name=mymaster
                        picket.specs.reads.read-from=replica
                        picket.specs.reads.balancer=round-robin
                        picket.specs.reads.read-your-writes=true
                        picket.specs.local.uri=redis://127.0.0.1:6380/1?clientName=jobs
                        picket.specs.local.command-timeout=250
                        other.setting=not Picket's
                        """,
                    ),
                )
            val group = config.sentinelGroups.getValue("main")
            group.sentinels shouldContainExactly listOf(Address("10.0.0.1", 26379), Address("10.0.0.2", 26380))
            (group.username to group.password) shouldBe ("watcher" to "sentinel-secret")
            group.connectTimeout shouldBe Duration.ofMillis(500)
            group.commandTimeout shouldBe Duration.ofMillis(1500)
            group.subscribeToAll shouldBe false
            group.parkingTimeout shouldBe Duration.ofSeconds(3)
            group.lossDetection shouldBe false
            group.keepAlive shouldBe null
            group.tls shouldBe Tls.jdkTrust()

            val orders = config.spec("orders")
            orders.target shouldBe SpecTarget.Sentinel("main", "mymaster")
            (orders.username to orders.password) shouldBe ("app" to "data-secret")
            orders.database shouldBe 2
            orders.durability shouldBe Durability.replicas(1, Duration.ofSeconds(1))
            orders.idempotent shouldBe true
            orders.readFrom shouldBe ReadFrom.Master

            val reads = config.spec("reads").readFrom.shouldBeInstanceOf<ReadFrom.PreferReplica>()
            reads.fallbackToMaster shouldBe false
            reads.readYourWrites shouldBe true

            val local = config.spec("local")
            local.target shouldBe SpecTarget.Direct(Address("127.0.0.1", 6380))
            local.database shouldBe 1
            local.clientName shouldBe "jobs"
            local.commandTimeout shouldBe Duration.ofMillis(250)
            config.toString() shouldNotContain "secret"
        }

        test("a map with its own prefix, every unset setting at its default") {
            val config =
                PicketConfig.from(
                    mapOf(
                        "app.redis.sentinel-groups.g.sentinels" to "h:26379",
                        "app.redis.specs.s.group" to "g",
                        "app.redis.specs.s.master-name" to "m",
                        "app.redis.specs.s.read-from" to "prefer-replica",
                    ),
                    "app.redis.",
                )
            config.sentinelGroups.getValue("g").toString() shouldBe SentinelGroup.of("h:26379").toString()
            config.spec("s") shouldBe
                ConnSpec(sentinelGroup = "g", masterName = "m", readFrom = ReadFrom.PreferReplica(Balancers.random))
        }

        test("asking for a spec the configuration lacks names those it has") {
            shouldThrowExactly<InvalidSpecException> {
                PicketConfig.from(mapOf("picket.specs.a.host" to "h", "picket.specs.a.port" to "1")).spec("b")
            }.message shouldBe "no spec 'b' in the configuration (specs: a)"
        }

        context("a bad key or value is an InvalidSpecException naming the key, never a password") {
            val group = "picket.sentinel-groups.g"
            val spec = "picket.specs.s"
            val groupOk = mapOf("$group.sentinels" to "h:26379", "$group.password" to "pw-secret")
            val specOk = mapOf("$spec.group" to "g", "$spec.master-name" to "m", "$spec.password" to "pw-secret")
            withData(
                nameFn = { it.second },
                groupOk + ("$group.connect-timeout" to "fast") to
                    "$group.connect-timeout: 'fast' is not a duration",
                groupOk + ("$group.ping-interval" to "0s") to
                    "$group: sentinel group pingInterval is PT0S, must be > 0",
                groupOk + ("$group.subscribe-to-all" to "yes") to "$group.subscribe-to-all: 'yes' is not true or false",
                groupOk + ("$group.pasword" to "pw-secret") to "unknown key(s) $group.pasword; known settings:",
                mapOf("$group.password" to "pw-secret") to "$group.sentinels: missing",
                groupOk + ("$group.sentinels" to "h") to "$group.sentinels: 'h' is not host:port",
                groupOk + ("$group.tls.trusted-certificates" to "/no/such.pem") to
                    "$group.tls: TLS trustedCertificates '/no/such.pem' is not a readable file",
                groupOk + ("picket.sentinel-group.g.sentinels" to "h:1") to "unknown key picket.sentinel-group.g",
                groupOk + ("picket.specs.s" to "x") to "key picket.specs.s: write picket.specs.<name>.<setting>",
                specOk + ("$spec.database" to "first") to "$spec.database: 'first' is not a number",
                specOk + ("$spec.database" to "-1") to "$spec: database is -1, must be >= 0",
                specOk + ("$spec.read-from" to "slave") to "$spec.read-from: 'slave' is not one of master",
                specOk + ("$spec.balancer" to "random") to "$spec.balancer: applies to replica reads",
                specOk + ("$spec.durability" to "majority") to "$spec.durability-timeout: missing",
                specOk + ("$spec.durability" to "most") + ("$spec.durability-timeout" to "1s") to
                    "$spec.durability: 'most' is not one of none, all-replicas",
                specOk + ("$spec.durability-timeout" to "1s") to "$spec.durability-timeout: given without",
                specOk + ("$spec.host" to "h") to "$spec: a spec names either a sentinel group and master name",
                specOk + ("$spec.uri" to "redis://h") to "$spec.uri: a spec with a uri takes no group",
                mapOf("$spec.uri" to "redis://u:pw-secret@h?x=1") to "$spec.uri: unknown redis:// URI parameter(s) x",
            ) { (values, expected) ->
                val error = shouldThrowExactly<InvalidSpecException> { PicketConfig.from(values) }
                error.message shouldContain expected
                error.message shouldNotContain "secret"
            }
        }
    })
