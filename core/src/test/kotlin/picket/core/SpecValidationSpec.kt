package picket.core

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/** Bad input is refused when a spec is made, with a typed error naming the value; nothing is connected to. */
class SpecValidationSpec :
    FunSpec({
        val spec = ConnSpec(sentinelGroup = "g", masterName = "m")

        test("timeouts must be positive and the pool non-empty") {
            shouldThrow<InvalidSpecException> { spec.copy(connectTimeout = Duration.ofSeconds(-1)) }.message shouldBe
                "connectTimeout is PT-1S, must be > 0"
            shouldThrow<InvalidSpecException> { spec.copy(commandTimeout = Duration.ZERO) }.message shouldBe
                "commandTimeout is PT0S, must be > 0"
            shouldThrow<InvalidSpecException> { spec.copy(poolSize = 0) }.message shouldBe "poolSize is 0, must be >= 1"
            shouldThrow<InvalidSpecException> { ConnSpec.direct("h", 1).poolWait(Duration.ofMillis(-5)).build() }
                .message shouldBe "poolWait is PT-0.005S, must be > 0"
            shouldThrow<InvalidSpecException> { KeepAlive(Duration.ofMillis(500), Duration.ofSeconds(1), 1) }
                .message shouldBe "keepalive idle is PT0.5S, must be >= 1 s"
        }

        test("addresses: IPv6 literals are parsed from and written with brackets; bad ones are refused") {
            Address.parse("[::1]:26379") shouldBe Address("::1", 26379)
            Address("::1", 26379).toString() shouldBe "[::1]:26379"
            Address.parse("10.0.0.1:6379").toString() shouldBe "10.0.0.1:6379"
            Address.parse("localhost:6379") shouldBe Address("localhost", 6379)
            shouldThrow<InvalidSpecException> { Address.parse("[::1]") }.message shouldBe "'[::1]' is not host:port"
            shouldThrow<InvalidSpecException> { Address.parse("[::1]:0") }.message shouldBe
                "port 0 of host '::1' is outside 1..65535"
        }

        test("TLS without trust material, with two, or with unreadable files is refused, naming what is wrong") {
            shouldThrow<InvalidSpecException> { Tls() }.message shouldBe
                "TLS needs trust material: trustedCertificates (PEM), a trustStore, or jdkTrust"
            shouldThrow<InvalidSpecException> { spec.copy(tls = Tls(verifyHostname = false)) }
            val missing = Path.of("/nonexistent/ca.crt")
            shouldThrow<InvalidSpecException> { Tls.trusting(missing) }.message shouldBe
                "TLS trustedCertificates '/nonexistent/ca.crt' is not a readable file"
            val file = Files.createTempFile("picket-ca", ".crt")
            try {
                shouldThrow<InvalidSpecException> { Tls(trustedCertificates = file, jdkTrust = true) }.message shouldBe
                    "TLS takes one trust material, got trustedCertificates, trustStore or jdkTrust"
                shouldThrow<InvalidSpecException> { Tls(trustedCertificates = file, trustStorePassword = "pw") }
                    .message shouldBe "TLS trustStorePassword given without a trustStore"
                shouldThrow<InvalidSpecException> { Tls(trustedCertificates = file, clientCertificate = file) }
                    .message shouldBe "TLS client certificate and client key go together; only one is given"
                shouldThrow<InvalidSpecException> { Tls.trusting(file).withClientCertificate(file, missing) }
                    .message shouldBe "TLS clientKey '/nonexistent/ca.crt' is not a readable file"
                val store = Tls.trustStore(file, "store-secret")
                store.toString() shouldNotContain "store-secret"
                ConnSpec
                    .sentinel("g", "m")
                    .tls(store)
                    .build()
                    .toString() shouldContain "trustStorePassword=***"
                Tls.jdkTrust().withoutHostnameCheck().verifyHostname shouldBe false
            } finally {
                Files.delete(file)
            }
        }
    })
