package picket.core

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.lettuce.core.codec.ByteArrayCodec
import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import kotlinx.coroutines.future.await
import picket.testkit.TopologyExtension
import java.nio.ByteBuffer
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/**
 * Values of any type: `withConn` with `byte[]` and with a codec of the user's, in Kotlin and in both Java forms, on
 * the same connection as string blocks (a command carries its codec). Direct mode, core alone.
 */
class CodecSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 0
            }
        val node = topology.dataNodes.first()
        val spec = ConnSpec(host = node.host, port = node.port)

        /** A codec of the user's: string keys, values that are points written as two big-endian ints. */
        val points =
            object : RedisCodec<String, Pair<Int, Int>> {
                override fun decodeKey(bytes: ByteBuffer): String = StringCodec.UTF8.decodeKey(bytes)

                override fun decodeValue(bytes: ByteBuffer): Pair<Int, Int> = bytes.getInt() to bytes.getInt()

                override fun encodeKey(key: String): ByteBuffer = StringCodec.UTF8.encodeKey(key)

                override fun encodeValue(value: Pair<Int, Int>): ByteBuffer =
                    ByteBuffer
                        .allocate(8)
                        .putInt(value.first)
                        .putInt(value.second)
                        .flip()
            }

        test("byte arrays round-trip unchanged in Kotlin and both Java forms, beside string blocks")
            .config(timeout = 30.seconds) {
                Picket().use { picket ->
                    // Every byte value, which no string codec would keep.
                    val all = ByteArray(256) { it.toByte() }
                    val key = "codec:bytes".toByteArray()
                    picket.withConn(spec, ByteArrayCodec.INSTANCE) { set(key, all) } shouldBe "OK"
                    picket.withConn(spec, ByteArrayCodec.INSTANCE) { get(key) }!!.toList() shouldBe all.toList()
                    picket.blocking().withConn(spec, ByteArrayCodec.INSTANCE) { it.get(key) }.toList() shouldBe
                        all.toList()
                    picket
                        .async()
                        .withConn(spec, ByteArrayCodec.INSTANCE) { it.strlen(key) }
                        .get(10, TimeUnit.SECONDS) shouldBe 256L
                    // The string blocks on the same node still read strings.
                    picket.withConn(spec) { set("codec:text", "plain") } shouldBe "OK"
                    picket.blocking().withConn(spec) { it.get("codec:text") } shouldBe "plain"
                    picket
                        .blocking()
                        .withDedicatedConn(spec, ByteArrayCodec.INSTANCE) { it.getrange(key, 0, 1) }
                        .toList() shouldBe listOf(0.toByte(), 1.toByte())
                }
            }

        test("a codec of the user's encodes and decodes values in Kotlin and Java, retried blocks included")
            .config(timeout = 30.seconds) {
                Picket().use { picket ->
                    picket.withConn(spec, points) { set("codec:point", 3 to -7) } shouldBe "OK"
                    picket.withConn(spec, points) { get("codec:point") } shouldBe (3 to -7)
                    picket.blocking().withConn(spec, points) { it.get("codec:point") } shouldBe (3 to -7)
                    picket
                        .async()
                        .withConn(spec, points) { redis ->
                            redis.set("codec:other", 1 to 2).thenCompose {
                                redis.mget("codec:point", "codec:other")
                            }
                        }.await()
                        .map { it.value } shouldBe listOf(3 to -7, 1 to 2)
                    // The raw bytes are what the codec wrote.
                    picket.withConn(spec, ByteArrayCodec.INSTANCE) { strlen("codec:point".toByteArray()) } shouldBe 8L
                }
            }
    })
