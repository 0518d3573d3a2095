package picket.core

/**
 * A node refused a command because of its own state, not because the command is wrong: it is loading its data,
 * busy with a script, short of replicas or memory, a replica now, … The refused command did not run. [reply] is
 * Redis's error reply as it came (the same text Lettuce's exception, the [cause], carries), [address] the node and
 * [target] what the spec points at (`group/masterName` or `host:port`).
 *
 * Each subtype says what the state means and how Picket treats it (see the module README, "Errors inside a block"):
 * a replica that answers [NodeLoadingException] or [MasterLinkDownException] is passed over and the read runs on
 * another node (when none can, a replica spec fails with [NoHealthyReplicaException] naming why, a direct spec with
 * these); a master that answers
 * [ReadOnlyNodeException] is dropped from the cache and the block runs again where that is safe. The others are
 * not retried: nothing says when the state will pass.
 *
 * ```kotlin
 * try {
 *     picket.withConn(spec) { set("k", "v") }
 * } catch (e: NotEnoughReplicasException) {
 *     log.warn { "degraded topology, write refused by ${e.address}: ${e.reply}" }
 * }
 * ```
 */
public sealed class NodeStateException(
    /** The node that refused. */
    public val address: Address,
    /** What the spec points at: `group/masterName` or `host:port`. */
    public val target: String,
    /** Redis's error reply, e.g. `LOADING Redis is loading the dataset in memory`. */
    public val reply: String,
    /** What the state means, in a few words. */
    public val meaning: String,
    cause: Throwable,
) : PicketException("$address ($target) $meaning; the command did not run: $reply", cause)

/**
 * `LOADING`: the node is loading its data set into memory (after a restart or a full sync) and answers nothing yet.
 * A replica read that meets it runs on another replica or, if the spec falls back, on the master.
 */
public class NodeLoadingException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "is loading its data set", cause)

/**
 * `MASTERDOWN`: a replica lost its link to the master and is configured not to serve stale data
 * (`replica-serve-stale-data no`). A replica read that meets it runs on another node, as for [NodeLoadingException].
 */
public class MasterLinkDownException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "has lost its link to the master and serves no stale data", cause)

/**
 * `READONLY`, or `UNBLOCKED … instance state changed`: the node Picket took for the master is a replica now (a
 * failover demoted it, possibly while the command was blocked). Picket drops the node from its cache; the block runs
 * again on the new master if nothing of it had run or its spec is idempotent, so this reaches a caller only when
 * the block could not safely run again or every attempt met a demoted node.
 */
public class ReadOnlyNodeException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "is a replica now, not the master", cause)

/**
 * `BUSY`: a Lua script or function has run on the node longer than `busy-reply-threshold` and blocks every other
 * command until it ends or is killed (`SCRIPT KILL`, `FUNCTION KILL`). Not retried: nothing says when it ends.
 */
public class NodeBusyException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "is busy running a script or function", cause)

/**
 * `NOREPLICAS`: the master has fewer good replicas than its `min-replicas-to-write` asks, so it refuses writes: the
 * topology is degraded (replicas down or lagging more than `min-replicas-max-lag`). Not retried.
 */
public class NotEnoughReplicasException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(
        address,
        target,
        reply,
        "has too few good replicas to accept writes (min-replicas-to-write)",
        cause,
    )

/**
 * `TRYAGAIN`: a multi-key command met keys being migrated between nodes (a Redis Cluster resharding). Not retried
 * by Picket: the caller may try again shortly.
 */
public class TryAgainException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "has the command's keys in migration", cause)

/**
 * `MISCONF`: the node cannot persist its RDB snapshots and `stop-writes-on-bgsave-error` makes it refuse writes.
 * Needs an operator (disk, permissions). Not retried.
 */
public class NodePersistenceException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "cannot persist its snapshots and refuses writes", cause)

/**
 * `OOM`: the node reached `maxmemory` and its eviction policy frees nothing for this command (`noeviction`, or no
 * volatile keys). Not retried.
 */
public class NodeOutOfMemoryException(
    address: Address,
    target: String,
    reply: String,
    cause: Throwable,
) : NodeStateException(address, target, reply, "is out of memory (maxmemory)", cause)
