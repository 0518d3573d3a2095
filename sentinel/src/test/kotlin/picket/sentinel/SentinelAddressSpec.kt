package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyExtension

/** Sentinels are compared as the sentinels they reach: one configured by name and announced by IP is one. */
class SentinelAddressSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }

        test("sentinels configured as localhost and announcing 127.0.0.1 are 3 sentinels with 3 subscriptions") {
            val picket = Picket()
            try {
                val configured = topology.sentinels.map { Address("localhost", it.port) }
                picket.setSentinelGroups("byName" to SentinelGroup(configured))
                val log = EventLog(picket)
                withTimeout(30_000) {
                    // A resolution asks SENTINEL SENTINELS, whose reply names the other two as 127.0.0.1.
                    val spec = ConnSpec(sentinelGroup = "byName", masterName = "mymaster")
                    picket.withConn(spec) { ping() } shouldBe "PONG"
                    val status = picket.status("byName")
                    status.sentinels shouldContainExactlyInAnyOrder configured
                    within(10) {
                        val subscriptions = picket.status("byName").subscriptions
                        subscriptions.keys shouldContainExactlyInAnyOrder configured
                        subscriptions.values.toSet() shouldBe setOf(true)
                        // One subscription per sentinel, as the sentinels count it.
                        topology.sentinels.map { Inspect.clientsNamed(it, "picket") } shouldBe listOf(1, 1, 1)
                    }
                }
                log.ofType<PicketEvent.SentinelsRefreshed>().shouldBeEmpty()
                log.close()
            } finally {
                picket.close()
            }
        }
    })
