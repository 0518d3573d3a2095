package picket.core

/**
 * The root of every error Picket raises itself. Redis command errors (`WRONGTYPE`, `NOSCRIPT`, …) are Lettuce's
 * own exceptions and pass through unchanged; replies that describe the node's state (`LOADING`, `BUSY`, …) leave
 * a block as [NodeStateException]s, with Lettuce's exception as the cause. Messages name the group, master name,
 * address or setting concerned and never contain a password.
 */
public abstract class PicketException(
    message: String,
    cause: Throwable? = null,
) : RuntimeException(message, cause)

/** A spec, group or option is malformed; nothing was changed. The message names the offending value. */
public class InvalidSpecException(
    message: String,
) : PicketException(message)

/** A spec names a sentinel group that is not declared. */
public class SentinelGroupUnknownException(
    /** The name the spec used. */
    public val group: String,
    /** The groups that are declared. */
    public val known: Set<String>,
) : PicketException(
        "sentinel group '$group' is not declared (declared: ${known.sorted().joinToString().ifEmpty { "none" }})",
    )

/** Every sentinel that answered says it does not monitor [masterName]. */
public class MasterNameUnknownException(
    /** The sentinel group asked. */
    public val group: String,
    /** The master name no sentinel knows. */
    public val masterName: String,
    /** The sentinels that answered that they do not know it. */
    public val sentinels: List<Address>,
) : PicketException(
        "no sentinel of group '$group' monitors a master named '$masterName' (asked ${sentinels.joinToString()})",
    )

/**
 * No sentinel of [group] gave a usable answer for [masterName]; [failures] holds each sentinel's cause, in the order
 * they were asked.
 */
public class SentinelsUnreachableException(
    /** The sentinel group asked. */
    public val group: String,
    /** The master name being resolved. */
    public val masterName: String,
    /** Why each sentinel failed. */
    public val failures: Map<Address, Throwable>,
) : PicketException(
        "no sentinel of group '$group' resolved master '$masterName': " +
            failures.entries.joinToString("; ") { (address, cause) -> "$address: ${describe(cause)}" },
        failures.values.firstOrNull(),
    )

/**
 * The sentinels of [group] that answered all flag master [masterName] at [address] as down (`s_down` or `o_down`):
 * it died or is unreachable, and a failover may be under way. [failures] holds each sentinel's answer or cause, in
 * the order they were asked. The next call asks the sentinels again.
 */
public class MasterDownException(
    /** The sentinel group asked. */
    public val group: String,
    /** The master name being resolved. */
    public val masterName: String,
    /** The address the sentinels flag as down. */
    public val address: Address,
    /** What each sentinel said or why it failed. */
    public val failures: Map<Address, Throwable>,
) : PicketException(
        "master '$masterName' of group '$group' at $address is down: " +
            failures.entries.joinToString("; ") { (sentinel, cause) -> "$sentinel: ${describe(cause)}" },
        failures.values.firstOrNull(),
    )

/**
 * A block waited for a failover of [masterName] to be confirmed (see `PicketEvent.FailoverStarted`) for [waited],
 * the group's parking timeout or the spec's command timeout, whichever is shorter, and it was not; the block did
 * not run. Later blocks go to whatever master the sentinels then name.
 */
public class FailoverInProgressException(
    /** The sentinel group. */
    public val group: String,
    /** The master name. */
    public val masterName: String,
    /** The master being failed over. */
    public val oldAddress: Address,
    /** The replica being promoted. */
    public val candidate: Address,
    /** How long the block waited. */
    public val waited: java.time.Duration,
) : PicketException(
        "a failover of '$masterName' in group '$group' from $oldAddress to $candidate was not confirmed; the block " +
            "waited ${waited.toMillis()} ms and did not run",
    )

/** The sentinels name a master, but it says it is not one (ROLE) on every attempt: the topology is changing. */
public class StaleMasterException(
    /** The sentinel group. */
    public val group: String,
    /** The master name. */
    public val masterName: String,
    /** The address the sentinels named last. */
    public val address: Address,
    /** What the node said it is. */
    public val role: String,
) : PicketException("sentinels of group '$group' name $address as master '$masterName', but it reports role '$role'")

/** A replica read was asked for, no replica of [masterName] is healthy, and the spec says not to fall back. */
public class NoHealthyReplicaException(
    /** The sentinel group. */
    public val group: String,
    /** The master name. */
    public val masterName: String,
    /** Why each known replica was rejected. */
    public val rejected: Map<Address, String>,
) : PicketException(
        "no healthy replica of '$masterName' in group '$group'" +
            if (rejected.isEmpty()) "" else ": " + rejected.entries.joinToString("; ") { "${it.key} ${it.value}" },
    )

/**
 * A read-your-writes block found its replica behind the writes acknowledged before it, and its spec does not fall
 * back to the master.
 */
public class ReplicaBehindException(
    /** The sentinel group. */
    public val group: String,
    /** The master name. */
    public val masterName: String,
    /** The replica. */
    public val replica: Address,
    /** The replication offset the replica has applied, or null if it did not answer in time. */
    public val replicaOffset: Long?,
    /** The master's offset after the last block that ran on it, or null if the master could not say. */
    public val requiredOffset: Long?,
) : PicketException(
        "replica $replica of '$masterName' in group '$group' " +
            (replicaOffset?.let { "has applied offset $it" } ?: "did not report its offset in time") +
            (requiredOffset?.let { ", reads must see offset $it" } ?: ", the master's offset could not be read"),
    )

/** A data node could not be connected to (refused, unreachable, timed out, or its credentials were refused). */
public class NodeConnectionException(
    /** The node. */
    public val address: Address,
    /** What the spec points at: `group/masterName` or `host:port`. */
    public val target: String,
    cause: Throwable,
) : PicketException("cannot connect to $address for $target: ${describe(cause)}", cause)

/**
 * The connection to [address] was lost while a command was in flight (a failover closes client connections, a node
 * died): the command may or may not have run. Blocks on an idempotent spec run again by themselves.
 */
public class ConnectionLostException(
    /** The node. */
    public val address: Address,
    /** What the spec points at: `group/masterName` or `host:port`. */
    public val target: String,
    cause: Throwable,
) : PicketException(
        "connection to $address for $target was lost; the command may or may not have run: ${describe(cause)}",
        cause,
    )

/** A balancer threw or returned an address that was not among the candidates. */
public class BalancerException(
    message: String,
    cause: Throwable? = null,
) : PicketException(message, cause)

/**
 * A block's writes were not confirmed as its [Durability] asks within its timeout (by too few replicas, or not
 * fsynced to the master's append-only file), or the master cannot confirm them at all ([reason]); the writes did
 * run on the master and may or may not survive a failover.
 */
public class DurabilityException
    @JvmOverloads
    constructor(
        /** The master the writes ran on. */
        public val address: Address,
        /** How many replicas had to confirm. */
        public val required: Int,
        /** How many did. */
        public val confirmed: Int,
        /** For [Durability.Aof] with a local fsync: whether the master fsynced them; null otherwise. */
        public val fsyncedLocally: Boolean? = null,
        /** Why the master could not confirm at all (a server without `WAITAOF`, AOF disabled), or null. */
        public val reason: String? = null,
    ) : PicketException(
            when {
                reason != null -> {
                    "writes on $address ran but cannot be confirmed: $reason"
                }

                fsyncedLocally != null -> {
                    "writes on $address were fsynced to the append-only file by $confirmed of $required required " +
                        "replicas, " + (if (fsyncedLocally) "and by the master" else "not by the master")
                }

                else -> {
                    "writes on $address were confirmed by $confirmed of $required required replicas"
                }
            },
        )

/** Every dedicated connection of a node was in use for longer than the spec's pool wait. */
public class PoolExhaustedException(
    /** The node. */
    public val address: Address,
    /** What the spec points at. */
    public val target: String,
    /** The pool's size. */
    public val size: Int,
    /** How long the block waited. */
    public val waited: java.time.Duration,
) : PicketException(
        "all $size dedicated connections to $address ($target) stayed in use for ${waited.toMillis()} ms",
    )

/**
 * A transaction's connection failed (a failover closed it, the node went away): [execSent] says whether `EXEC` had
 * been sent, i.e. whether the transaction may have run (true) or certainly did not (false).
 */
public class TransactionInterruptedException(
    /** The node. */
    public val address: Address,
    /** What the spec points at. */
    public val target: String,
    /** Whether `EXEC` was sent before the failure: then the outcome is unknown. */
    public val execSent: Boolean,
    cause: Throwable,
) : PicketException(
        "the transaction on $address ($target) was interrupted " +
            (if (execSent) "after EXEC was sent: it may or may not have run" else "before EXEC: it did not run") +
            ": ${describe(cause)}",
        cause,
    )

/**
 * A pipeline failed part way: the replies of the first [knownReplies] commands are known ([replies]); the commands
 * after them may or may not have run.
 */
public class PipelineException(
    /** The node. */
    public val address: Address,
    /** What the spec points at. */
    public val target: String,
    /** The replies received, in order, before the failure. */
    public val replies: List<Any?>,
    /** How many commands the pipeline had queued in all. */
    public val queued: Int,
    cause: Throwable,
) : PicketException(
        "pipeline on $address ($target) failed after ${replies.size} of $queued replies; the other commands may " +
            "or may not have run: ${describe(cause)}",
        cause,
    ) {
    /** How many replies are known. */
    public val knownReplies: Int get() = replies.size
}

/**
 * The thread waiting in a blocking call (a `blocking()` view's method) was interrupted. The call's work was cancelled:
 * a block that had started may have run in part, as with any failure after it began. The thread's interrupt flag is
 * set again before this is thrown, so that code above the call still sees the interruption.
 */
public class PicketInterruptedException(
    /** What was being waited for, e.g. "withConn on sentinel group main, master mymaster". */
    public val what: String,
    cause: Throwable,
) : PicketException("interrupted while waiting for $what", cause)

/** The Picket instance was closed; no further blocks run on it. */
public class PicketClosedException : PicketException("this Picket instance is closed")

/** A short description of [cause] for messages: its type and message, never a password (Lettuce omits them). */
internal fun describe(cause: Throwable): String {
    val root = generateSequence(cause) { it.cause }.last()
    val text = readable(root.message ?: root::class.simpleName ?: "error")
    return if (root === cause) text else "${readable(cause.message ?: cause::class.simpleName ?: "error")}: $text"
}

/**
 * Lettuce's "Unable to connect to" names the node as a URI whose host is URL-encoded
 * (`redis://%3A%3A1:26379?timeout=2s` for `::1`): written as the [Address] instead.
 */
private fun readable(message: String): String {
    if (!message.startsWith(UNABLE_TO_CONNECT)) return message
    val uri = message.removePrefix(UNABLE_TO_CONNECT)
    val authority =
        uri
            .substringAfter("://")
            .substringAfterLast('@')
            .substringBefore('?')
            .substringBefore('/')
    val colon = authority.lastIndexOf(':')
    val port = authority.substring(colon + 1).toIntOrNull() ?: return message
    val host =
        java.net.URLDecoder
            .decode(authority.substring(0, colon), Charsets.UTF_8)
            .removeSurrounding("[", "]")
    return runCatching { UNABLE_TO_CONNECT + Address(host, port) }.getOrDefault(message)
}

private const val UNABLE_TO_CONNECT = "Unable to connect to "
