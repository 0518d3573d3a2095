package picket.core

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import picket.testkit.TopologyExtension
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/** The Java forms' edges, direct mode, core alone: MULTI/EXEC through synchronous commands, a closed instance. */
class JavaFormsSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 0
            }
        val node = topology.dataNodes.first()
        val spec = ConnSpec(host = node.host, port = node.port)

        test("MULTI through a Java block's synchronous commands queues at once and EXEC gives the replies")
            .config(timeout = 30.seconds) {
                Picket().use { picket ->
                    val started = System.nanoTime()
                    val replies =
                        picket.blocking().withDedicatedConn(spec) { redis ->
                            redis.multi() shouldBe "OK"
                            // Queued, not waited for: Lettuce's synchronous API answers null until EXEC.
                            redis.set("java:tx", "1").shouldBeNull()
                            redis.incr("java:tx").shouldBeNull()
                            redis.exec().toList()
                        }
                    replies shouldBe listOf("OK", 2L)
                    // Nothing waited for a command timeout (the default is seconds).
                    ((System.nanoTime() - started) / 1_000_000 < 1_000) shouldBe true
                    picket.blocking().withConn(spec) { it.get("java:tx") } shouldBe "2"
                }
            }

        test("an async call on a closed instance fails with PicketClosedException, not a cancellation") {
            val picket = Picket()
            picket.close()
            val future = picket.async().withConn(spec) { it.ping() }
            val error = shouldThrow<ExecutionException> { future.get(5, TimeUnit.SECONDS) }
            error.cause.shouldBeInstanceOf<PicketClosedException>()
            future.isCancelled shouldBe false
            shouldThrow<PicketClosedException> { picket.blocking().withConn(spec) { it.ping() } }
        }
    })
