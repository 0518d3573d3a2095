package picket.monitor

import picket.core.PicketException

/** The root of the monitor's own errors; bad options and arguments are [picket.core.InvalidSpecException]s. */
public abstract class MonitorException(
    message: String,
) : PicketException(message)

/** A query named a node the registry does not hold. */
public class UnknownNodeException(
    /** The id asked for. */
    public val nodeId: String,
    /** How many nodes the registry holds. */
    public val known: Int,
) : MonitorException("node '$nodeId' is not in the registry ($known nodes are)")

/** A query named a node that has not been polled successfully yet: there is no INFO to answer with. */
public class NodeNotPolledException(
    /** The node. */
    public val nodeId: String,
    /** Its last poll's error, if a poll failed. */
    public val lastError: String?,
) : MonitorException(
        "node '$nodeId' has not been polled yet" + (lastError?.let { ": its polls fail ($it)" } ?: ""),
    )

/** A query named an INFO section that neither Redis nor any polled node knows. */
public class UnknownSectionException(
    /** The section asked for. */
    public val section: String,
    /** The sections that exist. */
    public val known: Set<String>,
) : MonitorException("INFO has no section '$section' (known: ${known.sorted().joinToString()})")
