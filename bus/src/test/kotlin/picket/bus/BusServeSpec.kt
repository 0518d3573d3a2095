package picket.bus

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.lettuce.core.RedisCommandExecutionException
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** `serve` leaves nothing half-done when its first heartbeat fails (own small topology: 1 master, 1 sentinel). */
class BusServeSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        picket.setSentinelGroups("main" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)
        afterSpec { picket.close() }

        test("a serve whose first heartbeat fails throws and advertises no worker; the next serve counts one") {
            withTimeout(30.seconds) {
                val service = Bus(picket, "rollback", spec, prefix = "math_")
                service.register(MathService()::sum)
                val instances = "picket:bus:{rollback}:instances"
                onMaster(topology, masterName) { set(instances, "not a sorted set") } // BEAT's ZADD: WRONGTYPE
                shouldThrow<RedisCommandExecutionException> { service.serve() }.message!! shouldContain "WRONGTYPE"
                onMaster(topology, masterName) { del(instances) }
                val server = service.serve()
                val caller = Bus(picket, "rollback", spec)
                caller.methods().single { it.name == "math_sum" }.workers shouldBe 1
                caller.call("math_sum", 2, 3) shouldBe 5
                server.stop(Duration.ofSeconds(5)) shouldBe true
                // Stopped: no worker is advertised any more (a count left from the failed serve would keep one).
                shouldThrow<NoWorkerException> {
                    caller.call(
                        "math_sum",
                        listOf(1, 1),
                        timeout = Duration.ofMillis(500),
                    )
                }.message shouldBe "no worker serves bus method 'math_sum': nothing answered within 500 ms"
                caller.close()
                service.close()
            }
        }
        test("a method registered anew with another function does not answer from the old function's cache") {
            withTimeout(30.seconds) {
                val first = Bus(picket, "takeover", spec, prefix = "t_")
                first.register(OldValue()::value, name = "t_value", cacheKey = "{x}")
                first.serve()
                val caller = Bus(picket, "takeover", spec)
                caller.call("t_value", 1) shouldBe "old:1"
                caller.call("t_value", 1) shouldBe "old:1" // from the cache
                first.close() // its only owner leaves: the name is free
                val second = Bus(picket, "takeover", spec, prefix = "t_")
                second.register(NewValue()::value, name = "t_value", cacheKey = "{x}")
                second.serve()
                caller.call("t_value", 1) shouldBe "new:1"
                caller.close()
                second.close()
            }
        }
    })

/** The function first registered as `t_value`. */
class OldValue {
    fun value(x: Int): String = "old:$x"
}

/** Another function, registered under the same name once the first left. */
class NewValue {
    fun value(x: Int): String = "new:$x"
}
