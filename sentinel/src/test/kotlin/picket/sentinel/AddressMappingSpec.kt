package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeIn
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.shouldBe
import picket.core.Address
import picket.core.AddressMapper
import picket.core.ConnSpec
import picket.core.NodeConnectionException
import picket.core.Picket
import picket.core.PicketEvent
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.PortForwarder
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension

/**
 * Address mapping, as behind NAT or in containers: every node, sentinels included, is reached through a port
 * forwarder, while Sentinel announces the nodes' own ports. Picket connects only through the forwarders (their
 * outgoing ports are the only addresses its connections have on the nodes), failover included.
 */
class AddressMappingSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val forwarders = topology.nodes.associateWith { PortForwarder.start(it.host, it.port) }
        val table =
            forwarders
                .map { (node, forwarder) ->
                    node.asAddress to Address("127.0.0.1", forwarder.port)
                }.toMap()
        val picket = Picket()
        afterSpec {
            picket.close()
            forwarders.values.forEach { it.close() }
        }
        // Sentinels are configured by the addresses they announce; the mapper gives the ones to connect to.
        picket.setSentinelGroups("mapped" to topology.sentinelGroup().mapAddresses(AddressMapper.of(table)))
        val spec = ConnSpec(sentinelGroup = "mapped", masterName = masterName, clientName = "mapped")

        /** Every connection named [name] on [node] comes from [node]'s forwarder; returns how many there are. */
        fun relayedOnly(
            node: RedisNode,
            name: String,
        ): Int {
            val ports =
                Inspect
                    .on(node) { it.clientList() }
                    .lines()
                    .filter { line -> line.split(" ").contains("name=$name") }
                    .map { line ->
                        line
                            .split(" ")
                            .first { it.startsWith("addr=") }
                            .substringAfterLast(':')
                            .toInt()
                    }
            ports.shouldNotBeEmpty()
            ports.forEach { it shouldBeIn forwarders.getValue(node).outgoingPorts }
            return ports.size
        }

        test("masters, replicas and sentinels are reached only through the mapped addresses, failover included") {
            val old = topology.awaitMaster(masterName)
            val log = EventLog(picket)
            picket.withConn(spec) { set("mapped", "1") } shouldBe "OK"
            within(10) { picket.withConn(spec.preferReplica()) { get("mapped") } shouldBe "1" }
            relayedOnly(old, "mapped")
            relayedOnly(topology.dataNodes(masterName).first { it != old }, "mapped")
            within(10) { topology.sentinels.forEach { relayedOnly(it, "picket") } }
            // Events and status keep the addresses Sentinel announces.
            picket.status("mapped").masters.getValue(masterName) shouldBe old.asAddress

            topology.failover(masterName)
            val switch = log.await<PicketEvent.SwitchMaster>()
            switch.oldAddress shouldBe old.asAddress
            within(10) { picket.withConn(spec) { set("mapped", "2") } shouldBe "OK" }
            val promoted = topology.nodeAt(switch.newAddress.toString())!!
            Inspect.on(promoted) { it.get("mapped") } shouldBe "2"
            relayedOnly(promoted, "mapped")
            topology.awaitMaster(masterName, notEqualTo = old)
        }

        test("a mapping to nowhere fails with a NodeConnectionException naming the announced node") {
            val dataPorts = topology.dataNodes(masterName).map { it.port }.toSet()
            // Sentinels through their forwarders, data nodes to a port where nothing listens.
            val nowhere =
                AddressMapper { announced ->
                    if (announced.port in dataPorts) Address("127.0.0.1", 1) else table[announced] ?: announced
                }
            val dead = Picket()
            try {
                dead.setSentinelGroups("mapped" to topology.sentinelGroup().mapAddresses(nowhere))
                val master = topology.awaitMaster(masterName)
                val error = shouldThrow<NodeConnectionException> { dead.withConn(spec) { ping() } }
                error.address shouldBe master.asAddress
            } finally {
                dead.close()
            }
        }
    })
