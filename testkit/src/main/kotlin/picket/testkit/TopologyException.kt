package picket.testkit

/**
 * A topology could not be started, a fault could not be applied, or an awaited state was not reached in time.
 * The message says which node or master name and why; where a node failed to start it ends with the last lines
 * of that node's log.
 */
public class TopologyException(
    message: String,
    cause: Throwable? = null,
) : RuntimeException(message, cause)
