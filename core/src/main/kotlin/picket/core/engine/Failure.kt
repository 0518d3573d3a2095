package picket.core.engine

import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisCommandTimeoutException
import io.lettuce.core.RedisConnectionException
import io.lettuce.core.RedisException
import picket.core.InternalPicketApi
import picket.core.NodeConnectionException
import picket.core.internal.execution.StateReply

/**
 * What an error in a block says about the node and about the command: whether the cached entry must be dropped,
 * whether the command provably did not run (so that the block may run again), and whether running it again could
 * help at all.
 */
@InternalPicketApi
public enum class Failure(
    public val invalidates: Boolean,
    public val provablyNotRun: Boolean,
    public val retriable: Boolean,
) {
    /**
     * READONLY, MASTERDOWN, LOADING, UNBLOCKED by a demotion ([StateReply.wrongNode]): the node refused the command,
     * so it did not run; the node is the wrong one to ask now.
     */
    REFUSED_BY_NODE(invalidates = true, provablyNotRun = true, retriable = true),

    /**
     * BUSY, NOREPLICAS, MISCONF, OOM, TRYAGAIN: the node refused the command because of a state that nothing says
     * will pass soon; it did not run, the node is the right one, and running the block again at once would not help.
     */
    NODE_STATE(invalidates = false, provablyNotRun = true, retriable = false),

    /** No connection could be made: nothing was sent. */
    NOT_CONNECTED(invalidates = true, provablyNotRun = true, retriable = true),

    /** The connection was closed (a failover kills client connections): the command may or may not have run. */
    CONNECTION_LOST(invalidates = true, provablyNotRun = false, retriable = true),

    /** No reply in time: it may have run; the node may be paused or partitioned but is not known to be wrong. */
    TIMEOUT(invalidates = false, provablyNotRun = false, retriable = true),

    /** Anything else, Redis command errors included: passed through as it is. */
    OTHER(invalidates = false, provablyNotRun = false, retriable = false),
    ;

    /** Whether the error says the node cannot be reached now (as opposed to refusing or rejecting a command). */
    public val unreachable: Boolean get() = this == NOT_CONNECTED || this == CONNECTION_LOST || this == TIMEOUT

    public companion object {
        /** Lettuce's messages for commands it rejected before sending them: they provably did not run. */
        private val REJECTED_UNSENT =
            listOf("Currently not connected", "Connection is closed", "Connection is already closed")

        private fun ofConnectionError(message: String): Failure =
            when {
                REJECTED_UNSENT.any { message.startsWith(it) } -> NOT_CONNECTED

                // "Connection closed", and "Connection disconnected" for commands queued as the channel went away
                // (sent or not: Lettuce does not say), so they may have run.
                message.contains("closed", ignoreCase = true) -> CONNECTION_LOST

                message.contains("disconnected", ignoreCase = true) -> CONNECTION_LOST

                else -> OTHER
            }

        public fun of(error: Throwable): Failure =
            when (error) {
                is NodeConnectionException, is RedisConnectionException -> {
                    NOT_CONNECTED
                }

                is RedisCommandTimeoutException -> {
                    TIMEOUT
                }

                is RedisCommandExecutionException -> {
                    val state = StateReply.of(error)
                    when {
                        state == null -> OTHER
                        state.wrongNode -> REFUSED_BY_NODE
                        else -> NODE_STATE
                    }
                }

                is RedisException -> {
                    ofConnectionError(error.message.orEmpty())
                }

                is java.io.IOException -> {
                    CONNECTION_LOST
                }

                else -> {
                    OTHER
                }
            }
    }
}
