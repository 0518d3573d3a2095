package picket.sentinel

import picket.core.Commands
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.PicketEvent
import picket.core.PicketListener
import picket.core.SentinelGroup

/** Declares exactly these sentinel groups on [Picket.default]; see [Picket.setSentinelGroups]. */
@JvmSynthetic
public fun setSentinelGroups(vararg groups: Pair<String, SentinelGroup>): Unit =
    Picket.default.setSentinelGroups(*groups)

/** Declares more sentinel groups on [Picket.default]; see [Picket.addSentinelGroups]. */
@JvmSynthetic
public fun addSentinelGroups(vararg groups: Pair<String, SentinelGroup>): Unit =
    Picket.default.addSentinelGroups(*groups)

/** Removes a sentinel group from [Picket.default]; see [Picket.removeSentinelGroup]. */
public fun removeSentinelGroup(name: String): Boolean = Picket.default.removeSentinelGroup(name)

/**
 * Runs [block] on the node [spec] points at, through [Picket.default]; see [Picket.withConn].
 *
 * ```kotlin
 * val orders = ConnSpec(sentinelGroup = "group1", masterName = "mymaster")
 * val n = withConn(orders) { incr("orders:count") }
 * val v = withConn(orders.preferReplica(Balancers.random)) { get("k") }
 * ```
 */
@JvmSynthetic
public suspend fun <T> withConn(
    spec: ConnSpec,
    block: suspend Commands<String, String>.() -> T,
): T = Picket.default.withConn(spec, block)

/** Registers a listener on [Picket.default]; closing the handle unregisters it. */
public fun registerListener(listener: PicketListener): AutoCloseable = Picket.default.registerListener(listener)

/** Checks every cached master of [Picket.default]; see [Picket.removeInvalidResolvedMasterSpecs]. */
@JvmSynthetic
public suspend fun removeInvalidResolvedMasterSpecs(): List<PicketEvent.EntryInvalidated> =
    Picket.default.removeInvalidResolvedMasterSpecs()
