package picket.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.Enabled
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.RedisConnectionException
import java.nio.file.Files
import javax.net.ssl.SSLException

/**
 * A TLS-only topology with generated certificates (two authorities, client certificates required) whose nodes are
 * known by host name (`announce-hostnames`). Skipped, with the reason, where the redis-server binary was built
 * without TLS.
 */
class TlsTopologySpec :
    FunSpec({
        val unsupported = RedisBinary.locate().tlsUnsupportedReason
        val enabled = { _: io.kotest.core.test.TestCase ->
            if (unsupported == null) Enabled.enabled else Enabled.disabled(unsupported)
        }
        val topology =
            if (unsupported == null) {
                install(TopologyExtension()) {
                    replicasPerMaster = 1
                    tls = TopologyTls(requireClientCertificates = true)
                    announceHostnames = true
                }
            } else {
                null
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME

        test("the test kit generates two authorities and certificates for data nodes, sentinels and clients")
            .config(enabledOrReasonIf = enabled) {
                val files = topology!!.tls.shouldNotBeNull()
                listOf(
                    files.dataAuthority,
                    files.sentinelAuthority,
                    files.dataCertificate,
                    files.sentinelCertificate,
                    files.clientCertificate,
                ).forEach { Files.readString(it) shouldContain "BEGIN CERTIFICATE" }
                listOf(files.dataKey, files.sentinelKey, files.clientKey).forEach {
                    Files.readString(it) shouldContain "BEGIN PRIVATE KEY"
                }
            }

        test("nodes answer over TLS only, to clients that trust their authority and present a certificate")
            .config(enabledOrReasonIf = enabled) {
                val files = topology!!.tls!!
                val master = topology.awaitMaster(masterName)
                val sentinel = topology.sentinels.first()
                Clients.onTls(master, files, files.dataAuthority, present = true) { it.ping() } shouldBe "PONG"
                Clients.onTls(sentinel, files, files.sentinelAuthority, present = true) { it.ping() } shouldBe "PONG"
                // Each authority signed only its own kind of node.
                shouldThrow<RedisConnectionException> {
                    Clients.onTls(master, files, files.sentinelAuthority, present = true) { it.ping() }
                }.cause.shouldBeInstanceOf<SSLException>()
                // tls-auth-clients yes: no certificate, no answer.
                shouldThrow<RedisConnectionException> {
                    Clients.onTls(master, files, files.dataAuthority, present = false) { it.ping() }
                }
                // The plain port is closed and the TLS port does not speak plain RESP.
                shouldThrow<RedisConnectionException> { Clients.on(master) { it.ping() } }
            }

        test(
            "replication and a failover run over TLS, every address by host name",
        ).config(enabledOrReasonIf = enabled) {
            val master = topology!!.awaitMaster(masterName)
            master.address shouldBe "localhost:${master.port}"
            topology.currentMaster(masterName) shouldBe master
            val sentinel = topology.sentinels.first()
            val files = topology.tls!!
            Clients.onTls(
                sentinel,
                files,
                files.sentinelAuthority,
                present = true,
            ) { it.info("sentinel") } shouldContain
                "address=localhost:${master.port}"
            topology.role(topology.dataNodes(masterName).single { it != master }) shouldBe
                NodeRole.Replica(master.address, linkUp = true)
            topology.failover(masterName)
            topology.awaitMaster(masterName, notEqualTo = master) shouldNotBe master
        }
    })
