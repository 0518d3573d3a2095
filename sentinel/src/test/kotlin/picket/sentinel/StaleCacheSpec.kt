package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration

/**
 * A cache that missed a failover because its only subscribed sentinel was paused: repaired by the ROLE sweep, by
 * READONLY, and by the liveness check that moves the subscription to another sentinel and re-validates.
 */
class StaleCacheSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val (s0, s1, s2) = topology.sentinels

        /** Economy mode on one configured sentinel (the others are discovered), with liveness as given. */
        fun economyOn(
            sentinel: picket.testkit.RedisNode,
            pingInterval: Duration,
        ) = SentinelGroup(listOf(sentinel.asAddress), subscribeToAll = false, pingInterval = pingInterval)

        test("a stale master is dropped by the ROLE sweep, and a write that meets READONLY runs again on the new one") {
            val sweep = Picket()
            val writer = Picket()
            val periodic = Picket()
            try {
                listOf(sweep, writer).forEach { it.setSentinelGroups("g" to economyOn(s0, Duration.ofHours(1))) }
                val everySecond =
                    SentinelGroup(
                        listOf(s0.asAddress),
                        subscribeToAll = false,
                        pingInterval = Duration.ofHours(1),
                        revalidateEvery = Duration.ofSeconds(1),
                    )
                periodic.setSentinelGroups("g" to everySecond)
                val spec = ConnSpec(sentinelGroup = "g", masterName = masterName)
                sweep.withConn(spec) { set("k", "before") }
                writer.withConn(spec) { get("k") } shouldBe "before"
                periodic.withConn(spec) { get("k") } shouldBe "before"
                val old = topology.awaitMaster(masterName)

                topology.pause(s0)
                topology.failover(masterName, via = s1)
                val promoted = topology.awaitMaster(masterName, notEqualTo = old)
                // Neither instance heard of it: their only subscription is to the paused sentinel.
                sweep.status("g").masters[masterName] shouldBe old.asAddress
                writer.status("g").masters[masterName] shouldBe old.asAddress
                // The one with a built-in schedule repairs itself without any call.
                within(15) { periodic.status("g").masters[masterName] shouldBe promoted.asAddress }

                val dropped = sweep.removeInvalidResolvedMasterSpecs()
                dropped shouldHaveSize 1
                dropped.single().address shouldBe old.asAddress
                dropped.single().reason shouldBe "reports role 'slave'"
                sweep.withConn(spec) { get("k") } shouldBe "before"
                sweep.status("g").masters[masterName] shouldBe promoted.asAddress

                val log = EventLog(writer)
                writer.withConn(spec) { set("k", "after") } shouldBe "OK"
                // Delivered in order after the call returned: the re-resolution's event follows the invalidation.
                log.await<PicketEvent.MasterResolved>()
                log.ofType<PicketEvent.EntryInvalidated>().single().reason shouldContain "READONLY"
                writer.status("g").masters[masterName] shouldBe promoted.asAddress
                Inspect.on(promoted) { it.get("k") } shouldBe "after"
            } finally {
                topology.resume(s0)
                sweep.close()
                writer.close()
                periodic.close()
            }
        }

        test("a paused subscribed sentinel is noticed within pingInterval + commandTimeout, and the cache follows on") {
            Picket().use { picket ->
                val group = economyOn(s1, Duration.ofSeconds(1))
                picket.setSentinelGroups("g" to group)
                val spec = ConnSpec(sentinelGroup = "g", masterName = masterName)
                val log = EventLog(picket)
                picket.withConn(spec) { get("k") } shouldBe "after"
                val old = topology.awaitMaster(masterName)
                within(10) { picket.status("g").subscriptions shouldBe mapOf(s1.asAddress to true) }

                val pausedAt = java.time.Instant.now()
                topology.pause(s1)
                try {
                    val lost = log.await<PicketEvent.SubscriptionLost>(seconds = 10) { it.sentinel == s1.asAddress }
                    val noticedMillis = Duration.between(pausedAt, lost.at).toMillis()
                    noticedMillis shouldBeLessThan group.pingInterval.plus(group.commandTimeout).toMillis() + 1_000
                    val moved = log.await<PicketEvent.Subscribed>(seconds = 20) { it.resubscribed }
                    moved.sentinel shouldNotBe s1.asAddress

                    topology.failover(masterName, via = s2)
                    val promoted = topology.awaitMaster(masterName, notEqualTo = old)
                    within(30) { picket.status("g").masters[masterName] shouldBe promoted.asAddress }
                    picket.withConn(spec) { role().first() } shouldBe "master"
                } finally {
                    topology.resume(s1)
                }
                topology.awaitMaster(masterName)
            }
        }
    })
