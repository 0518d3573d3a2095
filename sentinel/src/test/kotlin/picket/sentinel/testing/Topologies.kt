package picket.sentinel.testing

import io.kotest.assertions.nondeterministic.eventually
import picket.core.Address
import picket.core.SentinelGroup
import picket.testkit.RedisNode
import picket.testkit.Topology
import kotlin.time.Duration.Companion.seconds

/** The topology's sentinels as a Picket group, with the sentinels' password by default. */
fun Topology.sentinelGroup(password: String? = config.sentinelPassword): SentinelGroup =
    SentinelGroup(sentinels.map { Address(it.host, it.port) }, password = password)

/** The node's address as Picket names it. */
val RedisNode.asAddress: Address get() = Address(host, port)

/** Waits until [block] passes, for at most [seconds]. */
suspend fun <T> within(
    seconds: Int,
    block: suspend () -> T,
): T = eventually(seconds.seconds) { block() }
