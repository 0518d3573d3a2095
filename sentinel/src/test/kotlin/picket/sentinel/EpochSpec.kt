package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SentinelsUnreachableException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.Topology
import picket.testkit.TopologyConfig
import java.time.Duration

/**
 * Sentinel's config-epoch orders what Picket follows. Two separate topologies monitor a master named `orders`:
 * `current` has been failed over (its epoch is above 0), `stale` not until the last test (epoch 0) and stands for a
 * sentinel with an old view, such as one in a minority partition. Both masters are real masters, so ROLE alone
 * cannot tell them apart; the epoch can.
 */
class EpochSpec :
    FunSpec({
        // Down-after 30 s: pausing the only sentinel of a topology starts nothing there.
        val quiet = TopologyConfig(replicasPerMaster = 1, sentinels = 1, quorum = 1, downAfter = Duration.ofSeconds(30))
        val current = Topology.start(quiet.toBuilder().masterNames("orders").build())
        val stale =
            Topology.start(
                quiet
                    .toBuilder()
                    .masterNames("orders")
                    .build(),
            )
        val picket = Picket()
        afterSpec {
            picket.close()
            current.close()
            stale.close()
        }
        val c0 = current.sentinels.single()
        val s0 = stale.sentinels.single()

        test("an answer with a config-epoch older than the one followed is ignored, though ROLE would accept it") {
            val before = current.awaitMaster("orders")
            current.failover("orders")
            // Until the failover ends (+switch-master, ~2 s) the sentinel's SENTINEL MASTER names the old master
            // (get-master-addr-by-name names the promoted replica earlier): wait for the end, so that no switch comes
            // in the middle of the test.
            within(20) {
                val master = Inspect.onSentinel(c0) { it.master("orders") }
                master.getValue("port") shouldNotBe "${before.port}"
                master.getValue("flags") shouldBe "master"
            }
            picket.setSentinelGroups(
                "mixed" to SentinelGroup(listOf(c0.asAddress, s0.asAddress), commandTimeout = Duration.ofMillis(500)),
            )
            val spec = ConnSpec(sentinelGroup = "mixed", masterName = "orders", commandTimeout = Duration.ofSeconds(2))
            val log = EventLog(picket)

            // The stale sentinel is paused: the current one answers, and its epoch is followed.
            stale.pause(s0)
            try {
                picket.withConn(spec) { set("epoch", "1") } shouldBe "OK"
            } finally {
                stale.resume(s0)
            }
            val followed = picket.status("mixed").epochs.getValue("orders")
            followed shouldBeGreaterThan 0L
            log.await<PicketEvent.MasterResolved>().configEpoch shouldBe followed

            // Now only the stale one answers: its answer does not count.
            current.pause(c0)
            val error =
                try {
                    picket.invalidate(spec) shouldBe true
                    shouldThrow<SentinelsUnreachableException> { picket.withConn(spec) { get("epoch") } }.also {
                        picket.status("mixed").masters shouldBe emptyMap()
                    }
                } finally {
                    current.resume(c0)
                }
            val staleMaster = stale.currentMaster("orders")
            error.failures.getValue(s0.asAddress).message shouldBe
                "names ${staleMaster.asAddress} at config-epoch 0, older than the $followed already followed"
            // ROLE alone would have taken it: that node is a master.
            Inspect.on(staleMaster) { it.role().first() } shouldBe "master"

            // With the current sentinel back, the next call resolves the current master again.
            picket.withConn(spec) { get("epoch") } shouldBe "1"
            picket.status("mixed").masters.getValue("orders") shouldBe current.currentMaster("orders").asAddress
        }

        test("a +switch-master that does not start from the cached master is checked with the sentinels first") {
            val spec = ConnSpec(sentinelGroup = "mixed", masterName = "orders", commandTimeout = Duration.ofSeconds(2))
            val master = current.awaitMaster("orders")
            picket.withConn(spec) { set("epoch", "2") } shouldBe "OK"
            within(10) { picket.status("mixed").subscriptions.getValue(s0.asAddress) shouldBe true }
            val log = EventLog(picket)
            // The stale topology's sentinel announces a failover of its own `orders`: a real +switch-master that
            // does not start from the master Picket follows, as a late announcement of an earlier failover would.
            val staleOld = stale.awaitMaster("orders")
            stale.failover("orders")
            val ignored = log.await<PicketEvent.SwitchIgnored>()
            ignored.sentinel shouldBe s0.asAddress
            ignored.oldAddress shouldBe staleOld.asAddress
            ignored.newAddress shouldNotBe master.asAddress
            ignored.named shouldBe master.asAddress
            picket.status("mixed").masters.getValue("orders") shouldBe master.asAddress
            picket.withConn(spec) { get("epoch") } shouldBe "2"
            log.ofType<PicketEvent.SwitchMaster>() shouldBe emptyList()
            log.ofType<PicketEvent.EntryInvalidated>() shouldBe emptyList()
        }
    })
