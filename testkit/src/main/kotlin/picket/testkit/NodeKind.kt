package picket.testkit

/** What a [RedisNode] runs as. */
public enum class NodeKind {
    /** A Redis server holding data: a master or a replica, as Sentinel decides. */
    DATA,

    /** A Redis Sentinel. */
    SENTINEL,
}
