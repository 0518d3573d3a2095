package picket.core.internal.execution

import io.lettuce.core.RedisCommandExecutionException
import picket.core.Address
import picket.core.InternalPicketApi
import picket.core.MasterLinkDownException
import picket.core.NodeBusyException
import picket.core.NodeLoadingException
import picket.core.NodeOutOfMemoryException
import picket.core.NodePersistenceException
import picket.core.NodeStateException
import picket.core.NotEnoughReplicasException
import picket.core.ReadOnlyNodeException
import picket.core.TryAgainException

/**
 * Redis's error replies that describe the node's state rather than the command, by their first word: each becomes
 * its [NodeStateException] when it leaves a block, and says whether a replica that gave it is passed over for reads.
 */
@InternalPicketApi
public enum class StateReply(
    /** Whether the node is the wrong one to ask now (dropped from the cache, the block may run elsewhere). */
    public val wrongNode: Boolean,
    private val typed: (Address, String, String, Throwable) -> NodeStateException,
) {
    READONLY(true, ::ReadOnlyNodeException),
    UNBLOCKED(true, ::ReadOnlyNodeException),
    LOADING(true, ::NodeLoadingException),
    MASTERDOWN(true, ::MasterLinkDownException),
    BUSY(false, ::NodeBusyException),
    NOREPLICAS(false, ::NotEnoughReplicasException),
    TRYAGAIN(false, ::TryAgainException),
    MISCONF(false, ::NodePersistenceException),
    OOM(false, ::NodeOutOfMemoryException),
    ;

    /** Whether a replica read that met this reply runs on another node, the replica passed over meanwhile. */
    public val passesReplicaOver: Boolean get() = this == LOADING || this == MASTERDOWN

    /** The typed exception for [error], which came from [address] for [target]. */
    public fun typed(
        error: RedisCommandExecutionException,
        address: Address,
        target: String,
    ): NodeStateException = typed(address, target, error.message.orEmpty(), error)

    public companion object {
        private val byWord = entries.associateBy { it.name }

        /**
         * The state [error] reports, or null for a command error. `UNBLOCKED` counts only when the node says its
         * state changed (a master demoted under a blocked command), not for `CLIENT UNBLOCK … ERROR`.
         */
        public fun of(error: Throwable): StateReply? {
            if (error !is RedisCommandExecutionException) return null
            val message = error.message.orEmpty()
            val reply = byWord[message.substringBefore(' ')] ?: return null
            return reply.takeUnless { it == UNBLOCKED && "state changed" !in message }
        }
    }
}
