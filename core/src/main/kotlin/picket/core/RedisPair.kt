package picket.core

import java.util.concurrent.atomic.AtomicLong

/**
 * A read/write pair for one master name (TwiceRedis's): [master] (alias [write]) runs blocks on the current master,
 * [replica] (alias [read]) on one healthy replica, chosen by the balancer once and kept until [disconnect] or until
 * it stops being healthy. The pair has connections of its own ([ConnSpec.connectionScope]): disconnecting it
 * closes only them, and the next block reconnects through a fresh resolution, possibly to another replica.
 *
 * ```kotlin
 * val pair = picket.pair(ConnSpec(sentinelGroup = "main", masterName = "mymaster"))
 * pair.write.withConn { set("k", "v") }
 * val v = pair.read.withConn { get("k") }
 * pair.disconnect()
 * ```
 *
 * From Java, a side's blocks run through the instance's views with the side's spec, which carries the side's
 * connections and its sticky replica:
 *
 * ```java
 * RedisPair pair = picket.pair(spec);
 * picket.blocking().withConn(pair.getWrite().getSpec(), redis -> redis.set("k", "v"));
 * String v = picket.blocking().withConn(pair.getRead().getSpec(), redis -> redis.get("k"));
 * ```
 */
public class RedisPair internal constructor(
    private val picket: Picket,
    base: ConnSpec,
    balancer: Balancer,
    fallbackToMaster: Boolean,
) {
    private val sticky = StickyBalancer(balancer)
    private val scope = "pair-${ids.incrementAndGet()}"

    /** The master side. */
    public val master: Side = Side(base.copy(readFrom = ReadFrom.Master, connectionScope = "$scope-master"), false)

    /** The replica side; with no healthy replica it runs on the master, or fails if the pair was made not to. */
    public val replica: Side =
        Side(
            base.copy(
                readFrom =
                    ReadFrom.PreferReplica(
                        sticky,
                        fallbackToMaster,
                        (base.readFrom as? ReadFrom.PreferReplica)?.readYourWrites ?: false,
                    ),
                connectionScope = "$scope-replica",
            ),
            true,
        )

    /** [master], by its TwiceRedis name. */
    public val write: Side get() = master

    /** [replica], by its TwiceRedis name. */
    public val read: Side get() = replica

    /** Disconnects both sides. */
    public fun disconnect() {
        master.disconnect()
        replica.disconnect()
    }

    /** One side of the pair: run blocks on it, or disconnect it. */
    public inner class Side internal constructor(
        /** The spec blocks of this side run with. */
        public val spec: ConnSpec,
        private val isReplica: Boolean,
    ) {
        /**
         * Runs [block] on this side's node, as [Picket.withConn]. From Java, run a side's blocks through the views
         * with its [spec]: `picket.blocking().withConn(pair.getRead().getSpec(), redis -> redis.get("k"))`.
         */
        @JvmSynthetic
        public suspend fun <T> withConn(block: suspend Commands<String, String>.() -> T): T =
            picket.withConn(spec, block)

        /** The replica this side keeps using until [disconnect]; null for the master side or before a first block. */
        public val node: Address? get() = if (isReplica) sticky.current else null

        /**
         * Closes this side's connections. The next block reconnects through a fresh resolution: the master side asks
         * the sentinels for the master again, the replica side for the healthy replicas, and picks one anew.
         */
        public fun disconnect() {
            if (isReplica) sticky.forget()
            spec.connectionScope?.let { picket.engine.closeScope(it) }
            val target = spec.target as? SpecTarget.Sentinel ?: return
            if (isReplica) {
                picket.sentinel.replicasChanged(target)
            } else if (target.group in picket.sentinelGroups()) {
                picket.invalidate(spec)
            }
        }
    }

    private companion object {
        val ids = AtomicLong()
    }
}

/** Keeps the replica [inner] picked while it stays among the healthy ones. */
private class StickyBalancer(
    private val inner: Balancer,
) : Balancer {
    @Volatile
    var current: Address? = null
        private set

    override fun pick(candidates: List<Address>): Address =
        current?.takeIf { it in candidates } ?: inner.pick(candidates).also { current = it }

    fun forget() {
        current = null
    }

    override fun toString(): String = "sticky($inner)"
}
