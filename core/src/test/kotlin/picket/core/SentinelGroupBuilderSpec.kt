package picket.core

import io.kotest.assertions.throwables.shouldThrowExactly
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldNotContain
import java.time.Duration

/** `SentinelGroup.builder()`: every setting reaches the group, and build() refuses what the constructor refuses. */
class SentinelGroupBuilderSpec :
    FunSpec({
        test("every setting of the builder reaches the group") {
            val mapper = AddressMapper { it }
            val keepAlive = KeepAlive(Duration.ofSeconds(2), Duration.ofSeconds(2), 3)
            val tls = Tls.jdkTrust()
            val group =
                SentinelGroup
                    .builder()
                    .sentinel("10.0.0.1", 26379)
                    .sentinel("10.0.0.2:26380")
                    .sentinels(listOf(Address("::1", 26381)))
                    .credentials("watcher", "sentinel-secret")
                    .connectTimeout(Duration.ofMillis(300))
                    .commandTimeout(Duration.ofMillis(700))
                    .subscribeToAll(false)
                    .pingInterval(Duration.ofSeconds(3))
                    .revalidateEvery(Duration.ofSeconds(30))
                    .resolutionInterval(Duration.ZERO)
                    .parkWrites(false)
                    .parkingTimeout(Duration.ofSeconds(9))
                    .lossDetection(false)
                    .addressMapper(mapper)
                    .keepAlive(keepAlive)
                    .tls(tls)
                    .build()
            group.sentinels shouldBe
                listOf(Address("10.0.0.1", 26379), Address("10.0.0.2", 26380), Address("::1", 26381))
            group.username shouldBe "watcher"
            group.password shouldBe "sentinel-secret"
            group.connectTimeout shouldBe Duration.ofMillis(300)
            group.commandTimeout shouldBe Duration.ofMillis(700)
            group.subscribeToAll shouldBe false
            group.pingInterval shouldBe Duration.ofSeconds(3)
            group.revalidateEvery shouldBe Duration.ofSeconds(30)
            group.resolutionInterval shouldBe Duration.ZERO
            group.parkWrites shouldBe false
            group.parkingTimeout shouldBe Duration.ofSeconds(9)
            group.lossDetection shouldBe false
            group.addressMapper shouldBe mapper
            group.keepAlive shouldBe keepAlive
            group.tls shouldBe tls
        }

        test("a builder given only sentinels has the constructor's defaults") {
            val built = SentinelGroup.builder().sentinel("h:26379").build()
            built.toString() shouldBe SentinelGroup(listOf(Address("h", 26379))).toString()
        }

        test("build() refuses what the constructor refuses, with the same message") {
            fun sameError(
                builder: SentinelGroupBuilder,
                constructor: () -> SentinelGroup,
            ) {
                val fromBuilder = shouldThrowExactly<InvalidSpecException> { builder.build() }
                val fromConstructor = shouldThrowExactly<InvalidSpecException> { constructor() }
                fromBuilder.message shouldBe fromConstructor.message
            }
            val one = listOf(Address("h", 26379))
            sameError(SentinelGroup.builder()) { SentinelGroup(emptyList()) }
            sameError(SentinelGroup.builder().sentinel("h", 26379).sentinel("h:26379")) { SentinelGroup(one + one) }
            sameError(SentinelGroup.builder().sentinel("h:26379").credentials(" ", "pw")) {
                SentinelGroup(one, username = " ", password = "pw")
            }
            sameError(SentinelGroup.builder().sentinel("h:26379").connectTimeout(Duration.ZERO)) {
                SentinelGroup(one, connectTimeout = Duration.ZERO)
            }
            sameError(SentinelGroup.builder().sentinel("h:26379").resolutionInterval(Duration.ofMillis(-1))) {
                SentinelGroup(one, resolutionInterval = Duration.ofMillis(-1))
            }
        }

        test("a bad sentinel address is refused when it is added, naming it") {
            shouldThrowExactly<InvalidSpecException> { SentinelGroup.builder().sentinel("h", 0) }.message shouldBe
                "port 0 of host 'h' is outside 1..65535"
            shouldThrowExactly<InvalidSpecException> { SentinelGroup.builder().sentinel("no-port") }.message shouldBe
                "'no-port' is not host:port"
        }

        test("the builder's text never shows the password") {
            SentinelGroup
                .builder()
                .sentinel("h:26379")
                .password("sentinel-secret")
                .toString() shouldNotContain
                "sentinel-secret"
        }
    })
