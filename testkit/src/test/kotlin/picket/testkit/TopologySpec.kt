package picket.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeOneOf
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.RedisCommandTimeoutException
import io.lettuce.core.RedisConnectionException
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.ArrayOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType

/** The default topology (1 master, 2 replicas, 3 sentinels) and every fault the test kit offers. */
class TopologySpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME

        test("it starts one master, two replicas and three sentinels, each with its own pid and port") {
            println("started in ${topology.startupTime.toMillis()} ms with ${topology.binary}")
            topology.dataNodes shouldHaveSize 3
            topology.sentinels shouldHaveSize 3
            topology.nodes.map { it.port }.toSet() shouldHaveSize 6
            topology.nodes.map { it.pid.shouldNotBeNull() }.toSet() shouldHaveSize 6
            topology.nodes.forEach { Clients.isAlive(it.pid!!) shouldBe true }
            // Redis 7.0 and later: every sentinel sends INFO every second (the kit's sentinelInfoPeriod).
            if (topology.binary.version
                    .substringBefore('.')
                    .toInt() >= 7
            ) {
                topology.sentinels.forEach { sentinel ->
                    val debug =
                        Clients.on(sentinel) {
                            it.dispatch(
                                CommandType.SENTINEL,
                                ArrayOutput(StringCodec.UTF8),
                                CommandArgs(StringCodec.UTF8).add("DEBUG"),
                            )
                        }
                    val periods = debug.map { it.toString().lowercase() }.chunked(2).associate { it[0] to it[1] }
                    periods["info-period"] shouldBe "1000"
                }
            }
        }

        test("roles are read from the nodes themselves") {
            val (master, replica1, replica2) = topology.dataNodes(masterName)
            topology.awaitMaster(masterName) shouldBe master
            val roles = topology.roles()
            roles.getValue(master).shouldBeInstanceOf<NodeRole.Master>().replicaAddresses shouldContainExactlyInAnyOrder
                listOf(replica1.address, replica2.address)
            roles.getValue(replica1) shouldBe NodeRole.Replica(master.address, linkUp = true)
            roles.getValue(replica2) shouldBe NodeRole.Replica(master.address, linkUp = true)
            topology.sentinels.forEach { roles.getValue(it) shouldBe NodeRole.Sentinel(listOf(masterName)) }
            Clients.on(master) { it.set("written-on", "master") } shouldBe "OK"
        }

        test("a paused node stops answering and answers again after resume") {
            val replica = topology.dataNodes(masterName)[1]
            Clients.on(replica) { commands ->
                commands.ping() shouldBe "PONG"
                topology.pause(replica)
                replica.isPaused shouldBe true
                // The socket stays open; the paused process just never answers.
                shouldThrow<RedisCommandTimeoutException> { commands.ping() }
            }
            shouldThrow<RedisConnectionException> { Clients.on(replica) { it.ping() } }
            topology.resume(replica)
            replica.isPaused shouldBe false
            Clients.on(replica) { it.ping() } shouldBe "PONG"
        }

        test("a manual failover promotes a replica and demotes the old master") {
            val old = topology.awaitMaster(masterName)
            topology.failover(masterName)
            val promoted = topology.awaitMaster(masterName, notEqualTo = old)
            promoted shouldNotBe old
            promoted shouldBeOneOf topology.dataNodes(masterName)
            topology.role(promoted).shouldBeInstanceOf<NodeRole.Master>()
            topology.role(old) shouldBe NodeRole.Replica(promoted.address, linkUp = true)
            topology.currentMaster(masterName) shouldBe promoted
        }

        test(
            "after kill -9 of the master the sentinels agree on a new one, and the restarted node rejoins as replica",
        ) {
            val old = topology.awaitMaster(masterName)
            val oldPid = old.pid!!
            topology.kill(old)
            old.isRunning shouldBe false
            old.pid shouldBe null
            Clients.isAlive(oldPid) shouldBe false
            shouldThrow<RedisConnectionException> { Clients.on(old) { it.ping() } }

            val promoted = topology.awaitMaster(masterName, notEqualTo = old)
            promoted shouldNotBe old
            topology.role(old).shouldBeInstanceOf<NodeRole.Unavailable>().reason shouldBe "not running"

            topology.restart(old)
            old.isRunning shouldBe true
            old.pid shouldNotBe oldPid
            // It comes back as master (its config was not rewritten) until Sentinel converts it.
            topology.awaitMaster(masterName) shouldBe promoted
            topology.role(old) shouldBe NodeRole.Replica(promoted.address, linkUp = true)
        }

        test("a stopped sentinel refuses connections, and after a restart it is back in agreement") {
            val sentinel = topology.sentinels.last()
            topology.stop(sentinel)
            sentinel.isRunning shouldBe false
            shouldThrow<RedisConnectionException> { Clients.on(sentinel) { it.ping() } }
            val master = topology.awaitMaster(masterName)

            topology.restart(sentinel)
            topology.role(sentinel) shouldBe NodeRole.Sentinel(listOf(masterName))
            topology.awaitMaster(masterName) shouldBe master
        }

        test("faults are refused with a clear message where they make no sense") {
            val replica = topology.dataNodes(masterName)[2]
            shouldThrow<TopologyException> { topology.restart(replica) }.message shouldBe
                "cannot restart $replica: it is still running"
            shouldThrow<IllegalArgumentException> { topology.dataNodes("nope") }.message shouldContain
                "no master name 'nope'"
            shouldThrow<IllegalArgumentException> { topology.failover("nope") }.message shouldContain
                "no master name 'nope'"
            topology.kill(replica)
            shouldThrow<TopologyException> { topology.pause(replica) }.message shouldBe
                "cannot pause $replica: it is not running"
            topology.restart(replica)
            topology.awaitMaster(masterName)
        }
    })
