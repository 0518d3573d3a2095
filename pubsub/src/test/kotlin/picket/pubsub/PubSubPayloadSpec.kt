package picket.pubsub

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldNotBeSameInstanceAs
import io.lettuce.core.codec.ByteArrayCodec
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import picket.core.ConnSpec
import picket.core.Picket
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.function.Consumer
import kotlin.random.Random
import kotlin.time.Duration.Companion.seconds

/**
 * Payloads of any type: bytes published arrive as the same bytes (every byte value, invalid UTF-8, a large random
 * payload), through a channel and through a pattern, from Kotlin and from the Java views; text arrives as the same
 * text; and [PubSubMessage] compares, hashes and prints by content.
 */
class PubSubPayloadSpec :
    FunSpec({
        timeout = 120_000
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec.sentinel("main", TopologyConfig.DEFAULT_MASTER_NAME).build()

        /** Every byte value once, then sequences that are not UTF-8: a lone continuation, a cut and an overlong one. */
        val everyByte =
            ByteArray(256) { it.toByte() } +
                byteArrayOf(
                    0x80.toByte(),
                    0xC3.toByte(),
                    0x28,
                    0xE2.toByte(),
                    0x82.toByte(),
                    0xC0.toByte(),
                    0xAF.toByte(),
                )

        test("every byte value, invalid UTF-8 included, arrives unchanged through a channel and through a pattern") {
            val byChannel = CopyOnWriteArrayList<PubSubMessage>()
            val byPattern = CopyOnWriteArrayList<PubSubMessage>()
            val big = Random(22).nextBytes(256 * 1024)
            picket
                .listen(
                    spec,
                    mapOf(
                        Topic.channel("bin.raw") to { m -> byChannel += m },
                        Topic.pattern("bin.*") to { m -> byPattern += m },
                    ),
                ).use { listener ->
                    listener.awaitConnected(Duration.ofSeconds(10)) shouldBe true
                    picket.publish(spec, "bin.raw", everyByte) shouldBe 2L
                    picket.publish(spec, "bin.raw", ByteArray(0)) shouldBe 2L
                    // Bytes published by any client, not only through Picket's publish.
                    picket.withConn(spec, ByteArrayCodec.INSTANCE) { publish("bin.raw".toByteArray(), big) } shouldBe 2L
                    within(10) {
                        byChannel shouldHaveSize 3
                        byPattern shouldHaveSize 3
                    }
                    listOf(byChannel, byPattern).forEach { received ->
                        received.map { it.payloadBytes().toList() } shouldBe
                            listOf(everyByte.toList(), emptyList(), big.toList())
                        received.map { it.payloadSize } shouldBe listOf(everyByte.size, 0, big.size)
                        received.map { it.channel }.toSet() shouldBe setOf("bin.raw")
                    }
                    byChannel.map { it.pattern }.toSet() shouldBe setOf(null)
                    byPattern.map { it.pattern }.toSet() shouldBe setOf("bin.*")
                    // As text, bytes that are not UTF-8 become U+FFFD; the bytes themselves are kept.
                    byChannel.first().payload shouldContain "\uFFFD"
                }
        }

        test("a string published arrives as the same string, and as its UTF-8 bytes") {
            val master = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME)
            val text = "zürich ✓ 🙂 \u0000 end"
            picket.subscribe(spec, listOf("bin.text")).let { flow ->
                coroutineScope {
                    val received = CompletableDeferred<PubSubMessage>()
                    launch { received.complete(flow.first()) }
                    within(10) { Inspect.subscribers(master, "bin.text") shouldBe 1L }
                    picket.publish(spec, "bin.text", text) shouldBe 1L
                    val message = withTimeout(10.seconds) { received.await() }
                    message.payload shouldBe text
                    message.payloadBytes().toList() shouldBe text.toByteArray(Charsets.UTF_8).toList()
                    message shouldBe PubSubMessage("bin.text", null, text)
                }
            }
        }

        test("the Java views publish bytes, blocking and async; a Java handler receives them unchanged") {
            val pubsub = PubSub(picket)
            val received = CopyOnWriteArrayList<ByteArray>()
            pubsub
                .listen(
                    spec,
                    mapOf(
                        Topic.channel("bin.java") to
                            Consumer { m ->
                                received += m.payloadBytes()
                            },
                    ),
                ).use {
                    it.blocking().awaitConnected(Duration.ofSeconds(10)) shouldBe true
                    pubsub.blocking().publish(spec, "bin.java", everyByte) shouldBe 1L
                    pubsub.async().publish(spec, "bin.java", byteArrayOf(-1, 0, -2)).get(10, TimeUnit.SECONDS) shouldBe
                        1L
                    within(10) { received shouldHaveSize 2 }
                    received.map { bytes -> bytes.toList() } shouldBe
                        listOf(everyByte.toList(), listOf<Byte>(-1, 0, -2))
                }
        }

        test("a message compares and hashes by content, hands out copies of its bytes, and prints readably") {
            val bytes = byteArrayOf(1, 2, -1)
            val message = PubSubMessage("c", null, bytes)
            message shouldBe PubSubMessage("c", null, byteArrayOf(1, 2, -1))
            message.hashCode() shouldBe PubSubMessage("c", null, byteArrayOf(1, 2, -1)).hashCode()
            message shouldNotBe PubSubMessage("c", "c*", byteArrayOf(1, 2, -1))
            message shouldNotBe PubSubMessage("c", null, byteArrayOf(1, 2))
            PubSubMessage("c", null, "héllo") shouldBe PubSubMessage("c", null, "héllo".toByteArray())

            message.payloadBytes()[0] = 9
            message.payloadBytes().toList() shouldBe listOf<Byte>(1, 2, -1)
            message.payloadBytes() shouldNotBeSameInstanceAs message.payloadBytes()

            message.toString() shouldBe "PubSubMessage(channel=c, pattern=null, payload=3 bytes 0x0102ff)"
            PubSubMessage("c", "c*", "hi").toString() shouldBe "PubSubMessage(channel=c, pattern=c*, payload=hi)"
            PubSubMessage("c", null, "x".repeat(300)).toString() shouldBe
                "PubSubMessage(channel=c, pattern=null, payload=${"x".repeat(200)}… (300 bytes))"
            PubSubMessage("c", null, ByteArray(40)).toString() shouldBe
                "PubSubMessage(channel=c, pattern=null, payload=${"\u0000".repeat(40)})"
            PubSubMessage("c", null, ByteArray(40) { -1 }).toString() shouldBe
                "PubSubMessage(channel=c, pattern=null, payload=40 bytes 0x${"ff".repeat(32)}…)"
        }
    })
