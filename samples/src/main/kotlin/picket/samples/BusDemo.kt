package picket.samples

import kotlinx.coroutines.runBlocking
import picket.bus.Bus
import picket.bus.BusName
import picket.bus.proxy
import picket.core.ConnSpec
import picket.core.Picket
import java.time.Duration
import java.time.Instant
import java.util.UUID

/** The seed's random-number service: ids and passwords. */
object RandomService {
    fun uuid(): String = UUID.randomUUID().toString().replace("-", "")

    fun password(length: Int = 12): String = (1..length).map { (('a'..'z') + ('A'..'Z')).random() }.joinToString("")
}

/** The seed's math service, with a cached `now`. */
object MathService {
    fun sum(
        a: Int,
        b: Int,
    ): Int = a + b

    @Suppress("UNUSED_PARAMETER")
    fun now(seed: Int): Instant = Instant.now()
}

/** What the demo's caller declares: the two services' methods, as typed calls. */
interface Playground {
    @BusName("random_uuid")
    suspend fun uuid(): String

    @BusName("random_password")
    suspend fun password(length: Int): String

    @BusName("math_sum")
    suspend fun sum(
        a: Int,
        b: Int,
    ): Int

    @BusName("math_now")
    suspend fun now(seed: Int): Instant
}

/**
 * The demo's RPC bus: the seed's two services (random ids and passwords; math with a cached `now`), each on its own
 * bus instance, and a caller that discovers them and calls them through a proxy, before and after the failover.
 */
class BusDemo(
    picket: Picket,
    spec: ConnSpec,
) : AutoCloseable {
    private val rng = Bus(picket, "demo_playground", spec, prefix = "random_")
    private val math = Bus(picket, "demo_playground", spec, prefix = "math_")
    private val caller = Bus(picket, "demo_playground", spec)
    private val api = caller.proxy<Playground>()

    fun before() =
        runBlocking {
            rng.register(RandomService::uuid)
            rng.register(RandomService::password)
            math.register(MathService::sum, cacheKey = "{a}/{b}")
            math.register(MathService::now, cacheKey = "{seed}", cacheTtl = Duration.ZERO)
            rng.serve()
            math.serve(concurrency = 2)
            println("bus: discovered ${caller.methods().joinToString { it.name }}")
            println(
                "bus: random_uuid -> ${api.uuid().length} hex digits; random_password(20) -> ${api.password(
                    20,
                ).length} letters",
            )
            val first = api.now(1)
            println(
                "bus: math_sum(1, 2) -> ${api.sum(1, 2)}; math_now(1) twice the same: ${api.now(1) == first}, " +
                    "math_now(2) another: ${api.now(2) != first}",
            )
            caller.clearCache("math_now", 1)
            println("bus: after clearCache(1), math_now(1) is new: ${api.now(1) != first}")
        }

    fun after() =
        runBlocking {
            println(
                "bus: after the failover, math_sum(40, 2) -> ${api.sum(
                    40,
                    2,
                )}, random_uuid -> ${api.uuid().length} hex digits",
            )
            caller.cleanup()
        }

    override fun close() {
        listOf(rng, math, caller).forEach { it.close() }
    }
}
