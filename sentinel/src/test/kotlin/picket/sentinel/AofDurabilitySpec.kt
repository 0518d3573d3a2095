package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.DurabilityException
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.testkit.Inspect
import picket.testkit.RedisBinary
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration

/**
 * `WAITAOF` durability, on Redis 7.4 (Debian's 7.0 and the embedded 6.2 lack the command) with append-only files on
 * every data node.
 */
class AofDurabilitySpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                binary = RedisBinary.atLeast("7.2")
                appendOnly = true
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
        val aof = spec.withDurability(Durability.aof(Duration.ofSeconds(2)))

        test("the master and both replicas fsync a block's writes; with a replica paused the block says 1 of 2") {
            val master = topology.awaitMaster(masterName)
            picket.withConn(aof) { set("aof", "1") } shouldBe "OK"
            Inspect.on(master) { it.info("persistence") }.lines().first { it.startsWith("aof_enabled:") } shouldBe
                "aof_enabled:1"
            val replica = topology.dataNodes(masterName).first { it != master }
            val quick = spec.withDurability(Durability.aof(true, 2, Duration.ofMillis(1500)))
            // Paused for less than the sentinels' down-after (2 s): only this block notices.
            topology.pause(replica)
            val error =
                try {
                    shouldThrow<DurabilityException> { picket.withConn(quick) { set("aof", "2") } }
                } finally {
                    topology.resume(replica)
                }
            error.required shouldBe 2
            error.confirmed shouldBe 1
            error.fsyncedLocally shouldBe true
            error.message shouldBe
                "writes on ${master.asAddress} were fsynced to the append-only file by 1 of 2 required replicas, " +
                "and by the master"
            picket.withConn(spec) { get("aof") } shouldBe "2"
            picket.withConn(aof) { set("aof", "3") } shouldBe "OK"
        }

        test("a master without appendonly fails blocks that ask for its fsync, saying why; replicas alone still do") {
            val master = topology.awaitMaster(masterName)
            Inspect.on(master) { it.configSet("appendonly", "no") }
            try {
                val error = shouldThrow<DurabilityException> { picket.withConn(aof) { set("aof:off", "1") } }
                error.reason shouldBe
                    "WAITAOF failed: ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled."
                error.message shouldBe "writes on ${master.asAddress} ran but cannot be confirmed: ${error.reason}"
                val replicasOnly = spec.withDurability(Durability.aof(false, 2, Duration.ofSeconds(2)))
                picket.withConn(replicasOnly) { set("aof:off", "2") } shouldBe "OK"
            } finally {
                Inspect.on(master) { it.configSet("appendonly", "yes") }
            }
            shouldThrow<InvalidSpecException> { Durability.aof(false, 0, Duration.ofSeconds(1)) }.message shouldBe
                "AOF durability asks nothing: neither the master nor any replica"
        }
    })
