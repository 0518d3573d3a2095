package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelsUnreachableException
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension

/** Sentinels going away and coming back; nothing negative is cached. */
class SentinelOutageSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
        val log = EventLog(picket)

        test("with the sentinel that answered last down, the next resolution asks the next one") {
            picket.withConn(spec) { set("k", "v") }
            val lastGood = picket.status("main").lastGoodSentinel!!
            val node = topology.sentinels.single { it.asAddress == lastGood }
            topology.stop(node)
            picket.invalidate(spec) shouldBe true
            log.clear()

            picket.withConn(spec) { get("k") } shouldBe "v"

            // Events are delivered in order, after the call returned: the resolution's own comes after the error.
            val resolved = log.await<PicketEvent.MasterResolved>()
            log.ofType<PicketEvent.SentinelError>().map { it.sentinel } shouldBe listOf(lastGood)
            picket.status("main").lastGoodSentinel shouldBe resolved.sentinel
            topology.restart(node)
        }

        test("with every sentinel down, resolved masters keep working and a new resolution lists each sentinel") {
            topology.sentinels.forEach { topology.stop(it) }
            picket.withConn(spec) { get("k") } shouldBe "v"

            picket.invalidate(spec) shouldBe true
            log.clear()
            val error = shouldThrow<SentinelsUnreachableException> { picket.withConn(spec) { get("k") } }
            error.failures.keys shouldContainExactlyInAnyOrder topology.sentinels.map { it.asAddress }
            error.message shouldContain "no sentinel of group 'main' resolved master '$masterName'"
            log.await<PicketEvent.ResolutionFailed>().cause.shouldBeInstanceOf<SentinelsUnreachableException>()
            log.ofType<PicketEvent.SentinelError>().map { it.sentinel }.toSet() shouldBe error.failures.keys
        }

        test("once the sentinels are back the next call resolves again: failures are not cached") {
            topology.sentinels.forEach { topology.restart(it) }
            picket.withConn(spec) { get("k") } shouldBe "v"
            // The subscriptions come back by themselves and say they were lost.
            within(20) {
                picket
                    .status("main")
                    .subscriptions.values
                    .toSet() shouldBe setOf(true)
                log.ofType<PicketEvent.Subscribed>().count { it.resubscribed } shouldBe 3
            }
        }

        test("declaring a group again replaces it in full: new subscriptions, an empty cache") {
            picket.withConn(spec) { get("k") } shouldBe "v"
            picket.status("main").masters.keys shouldBe setOf(masterName)
            picket.setSentinelGroups("main" to topology.sentinelGroup())
            picket.status("main").masters shouldBe emptyMap()
            within(10) { topology.sentinels.forEach { Inspect.clientsNamed(it, "picket") shouldBe 1 } }
            picket.withConn(spec) { get("k") } shouldBe "v"
        }

        test("removing a group closes its subscriptions and forgets its cache") {
            within(10) { topology.sentinels.forEach { Inspect.clientsNamed(it, "picket") shouldBe 1 } }
            picket.removeSentinelGroup("main") shouldBe true
            within(10) { topology.sentinels.forEach { Inspect.clientsNamed(it, "picket") shouldBe 0 } }
            picket.sentinelGroups() shouldBe emptySet()
            picket.removeSentinelGroup("main") shouldBe false
        }
    })
