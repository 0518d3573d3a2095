package picket.core

import java.util.concurrent.ThreadLocalRandom
import java.util.concurrent.atomic.AtomicInteger

/** The built-in [Balancer]s. */
public object Balancers {
    /** The first healthy replica in Sentinel's order (carmine-sentinel's default). */
    @JvmField
    public val first: Balancer = Balancer { it.first() }

    /** A uniformly random healthy replica (TwiceRedis's choice). */
    @JvmField
    public val random: Balancer = Balancer { it[ThreadLocalRandom.current().nextInt(it.size)] }

    /** A new balancer that cycles through the healthy replicas, one block after the other. */
    @JvmStatic
    public fun roundRobin(): Balancer {
        val next = AtomicInteger()
        return Balancer { candidates -> candidates[Math.floorMod(next.getAndIncrement(), candidates.size)] }
    }
}
