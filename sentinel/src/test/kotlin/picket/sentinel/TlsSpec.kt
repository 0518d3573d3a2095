package picket.sentinel

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.Enabled
import io.kotest.core.test.TestCase
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.lettuce.core.pubsub.RedisPubSubAdapter
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.AddressMapper
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.NodeConnectionException
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.SentinelsUnreachableException
import picket.core.Tls
import picket.core.internal.openPubSub
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.RedisBinary
import picket.testkit.TlsFiles
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import picket.testkit.TopologyTls
import java.util.concurrent.TimeUnit

/**
 * TLS to data nodes and sentinels, each trusted for its own authority, with client certificates required and host
 * names checked, on a topology whose sentinels announce host names (`announce-hostnames yes`: every address is
 * `localhost:port`) and whose certificates name `localhost` only. The check passes on the announced names and is
 * shown to fail where the group connects by IP address instead. Skipped, with the reason, where the redis-server
 * binary was built without TLS.
 */
@OptIn(InternalPicketApi::class)
class TlsSpec :
    FunSpec({
        val unsupported = RedisBinary.locate().tlsUnsupportedReason
        val enabled = { _: TestCase -> if (unsupported == null) Enabled.enabled else Enabled.disabled(unsupported) }
        val topology =
            if (unsupported == null) {
                install(TopologyExtension()) {
                    replicasPerMaster = 1
                    tls = TopologyTls(certificateNames = listOf("localhost"), requireClientCertificates = true)
                    announceHostnames = true
                }
            } else {
                null
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val files: TlsFiles? = topology?.tls
        val byIp = AddressMapper { Address("127.0.0.1", it.port) }

        fun trust(authority: (TlsFiles) -> java.nio.file.Path): Tls =
            Tls.trusting(authority(files!!)).withClientCertificate(files.clientCertificate, files.clientKey)

        val picket = Picket()
        afterSpec { picket.close() }
        if (topology != null) {
            picket.setSentinelGroups(
                "tls" to topology.sentinelGroup().tls(trust { it.sentinelAuthority }),
                // Every node by IP address instead of the announced name: the certificates do not name it.
                "by-ip" to topology.sentinelGroup().tls(trust { it.sentinelAuthority }).mapAddresses(byIp),
                "by-ip-chain-only" to
                    topology
                        .sentinelGroup()
                        .tls(trust { it.sentinelAuthority }.withoutHostnameCheck())
                        .mapAddresses(byIp),
                "wrong-authority" to topology.sentinelGroup().tls(trust { it.dataAuthority }),
            )
        }
        val spec = { group: String ->
            ConnSpec(sentinelGroup = group, masterName = masterName, tls = trust { it.dataAuthority })
        }

        test("commands reach the master and replicas over TLS, and a failover is followed over TLS")
            .config(enabledOrReasonIf = enabled) {
                val old = topology!!.awaitMaster(masterName)
                old.host shouldBe "localhost"
                val log = EventLog(picket)
                picket.withConn(spec("tls")) { set("tls", "1") } shouldBe "OK"
                within(10) {
                    picket.withConn(spec("tls").preferReplica(fallbackToMaster = false)) { get("tls") } shouldBe
                        "1"
                }

                topology.failover(masterName)
                val switch = log.await<PicketEvent.SwitchMaster> { it.group == "tls" }
                switch.oldAddress shouldBe Address("localhost", old.port)
                within(10) { picket.withConn(spec("tls")) { set("tls", "2") } shouldBe "OK" }
                val direct =
                    ConnSpec(host = "localhost", port = switch.newAddress.port, tls = trust { it.dataAuthority })
                picket.withConn(direct) { get("tls") } shouldBe "2"
                log.close()
                topology.awaitMaster(masterName, notEqualTo = old)
            }

        test("pub/sub connections go over TLS too").config(enabledOrReasonIf = enabled) {
            topology!!.awaitMaster(masterName)
            val received = CompletableDeferred<String>()
            val attachment = picket.openPubSub(spec("tls")) {}
            try {
                attachment.connection.addListener(
                    object : RedisPubSubAdapter<String, ByteArray>() {
                        override fun message(
                            channel: String,
                            message: ByteArray,
                        ) {
                            received.complete(message.decodeToString())
                        }
                    },
                )
                attachment.connection
                    .async()
                    .subscribe("tls-news")
                    .get(5, TimeUnit.SECONDS)
                picket.withConn(spec("tls")) { publish("tls-news", "sealed") } shouldBe 1L
                withTimeout(5_000) { received.await() } shouldBe "sealed"
            } finally {
                attachment.connection.close()
            }
        }

        test("each kind of node is trusted for its own authority only").config(enabledOrReasonIf = enabled) {
            topology!!.awaitMaster(masterName)
            shouldThrow<SentinelsUnreachableException> { picket.withConn(spec("wrong-authority")) { ping() } }
                .message shouldContain "unable to find valid certification path"
            val dataWithSentinelTrust = spec("tls").copy(tls = trust { it.sentinelAuthority })
            shouldThrow<NodeConnectionException> { picket.withConn(dataWithSentinelTrust) { ping() } }
                .message shouldContain "unable to find valid certification path"
        }

        test("host names are checked against the address connected to, unless the check is turned off")
            .config(enabledOrReasonIf = enabled) {
                topology!!.awaitMaster(masterName)
                shouldThrow<SentinelsUnreachableException> { picket.withConn(spec("by-ip")) { ping() } }
                    .message shouldContain "No subject alternative names matching IP address 127.0.0.1 found"
                val checked =
                    shouldThrow<NodeConnectionException> { picket.withConn(spec("by-ip-chain-only")) { ping() } }
                checked.message shouldContain "No subject alternative names matching IP address 127.0.0.1 found"
                val chainOnly = spec("by-ip-chain-only").copy(tls = trust { it.dataAuthority }.withoutHostnameCheck())
                picket.withConn(chainOnly) { ping() } shouldBe "PONG"
            }

        test("nodes that require client certificates refuse a client without one").config(enabledOrReasonIf = enabled) {
            topology!!.awaitMaster(masterName)
            val anonymous = spec("tls").copy(tls = Tls.trusting(files!!.dataAuthority))
            shouldThrow<NodeConnectionException> { picket.withConn(anonymous) { ping() } }
        }
    })
