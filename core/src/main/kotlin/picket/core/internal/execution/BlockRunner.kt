package picket.core.internal.execution

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import picket.core.ConnSpec
import picket.core.ConnectionLostException
import picket.core.NodeConnectionException
import picket.core.PicketException
import picket.core.SpecTarget
import picket.core.engine.Failure
import picket.core.engine.Lease
import picket.core.engine.NodeResolver
import picket.core.engine.enclosingLease
import picket.core.internal.connections.DataConnections

private val log = KotlinLogging.logger {}

/**
 * Runs blocks: asks the target's [NodeResolver] for the node, runs the block on the shared connection (or a
 * dedicated one), waits for the durability the spec asks, and on failure tells the resolver what failed and runs the
 * block again only where that is safe. It knows nothing of Sentinel.
 */
internal class BlockRunner(
    private val resolverFor: (SpecTarget) -> NodeResolver,
    private val connections: DataConnections,
) {
    /**
     * Runs [run] on the node for [spec], on the shared connection or, if [dedicated], on a connection of its own
     * from the node's pool (blocking commands, transactions, pipelines); durability is awaited on the connection
     * the writes went through.
     */
    suspend fun <T> execute(
        spec: ConnSpec,
        dedicated: Boolean = false,
        run: suspend (Lease) -> T,
    ): T {
        if (!dedicated) enclosingLease(spec)?.let { return run(it) }
        var attempt = 1
        while (true) {
            val lastAttempt = attempt++ >= MAX_ATTEMPTS
            val lease = acquireOrNull(spec, lastAttempt) ?: continue
            try {
                val result =
                    try {
                        runDurably(spec, lease, dedicated, run)
                    } finally {
                        lease.resolver.ran(lease)
                    }
                lease.resolver.succeeded(lease)
                return result
            } catch (e: CancellationException) {
                currentCoroutineContext().ensureActive()
                // Not the caller's cancellation: Lettuce cancels the commands still queued on a connection that is
                // being closed (a switch closes the old master's connections). Surfacing it as a cancellation would
                // end a caller that was never cancelled; it is a lost connection.
                recover(lease, RedisException("Connection closed with the command queued", e), lastAttempt)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                recover(lease, e, lastAttempt)
            }
        }
    }

    /** Runs [run] on [lease]'s connection or a dedicated one, then waits for durability on that same connection. */
    private suspend fun <T> runDurably(
        spec: ConnSpec,
        lease: Lease,
        dedicated: Boolean,
        run: suspend (Lease) -> T,
    ): T {
        if (!dedicated) return run(lease).also { awaitDurability(spec, lease) }
        return connections.dedicated.use(lease.key, spec) { connection ->
            val own = lease.on(connection)
            run(own).also { awaitDurability(spec, own) }
        }
    }

    /** The node for [spec], or null if connecting failed before anything was sent and another attempt may help. */
    private suspend fun acquireOrNull(
        spec: ConnSpec,
        lastAttempt: Boolean,
    ): Lease? {
        while (true) {
            try {
                return resolverFor(spec.target).acquire(spec)
            } catch (e: NodeConnectionException) {
                // Nothing was sent: the entry has been dropped, so another round may find the right node.
                if (lastAttempt) throw e
                return null
            } catch (e: CancellationException) {
                // The caller itself was cancelled: that is the answer.
                currentCoroutineContext().ensureActive()
                // A resolution shared with other callers was cancelled under this caller: its group was removed or
                // replaced, or Picket closed. Looking the group up again says which: a replaced group resolves
                // anew, a removed one throws SentinelGroupUnknownException, a closed Picket PicketClosedException.
                // This ends: only closing a group cancels its resolutions.
                log.debug(e) { "a resolution for ${spec.target} was cancelled by a group change; looking again" }
            }
        }
    }

    /**
     * Tells the resolver what [error] proves wrong, then returns if the block may run again, or throws: a block runs
     * again only if nothing of it had run and the error proves the failing command did not run either, or if its
     * spec is idempotent and running again could help.
     */
    private fun recover(
        lease: Lease,
        error: Exception,
        lastAttempt: Boolean,
    ) {
        // READONLY from a node used as a replica (a replica spec, or a direct spec naming one) is not a demotion: the
        // block wrote where writes are refused. A command error, passed through as it is and not run again.
        val misdirectedWrite =
            StateReply.of(error) == StateReply.READONLY && (lease.isReplica || lease.spec.isDirect)
        val failure = if (misdirectedWrite) Failure.OTHER else Failure.of(error)
        if (failure.invalidates) {
            if (!lease.connection.isOpen) connections.discard(lease.key, lease.connection)
            lease.resolver.failed(lease, failure, error)
        }
        val untouched = failure.provablyNotRun && lease.tracker.completed == 0
        val again = failure.retriable && (untouched || lease.spec.idempotent)
        if (lastAttempt || !again) {
            throw finalError(lease, error, failure, misdirectedWrite)
        }
        log.debug { "running the block on ${lease.spec.target} again after ${error.message} ($failure)" }
    }

    /** What a block that is not run again throws for [error]: typed with the node where Redis or Lettuce said why. */
    private fun finalError(
        lease: Lease,
        error: Exception,
        failure: Failure,
        misdirectedWrite: Boolean,
    ): Exception {
        val state = StateReply.of(error)?.takeUnless { misdirectedWrite }
        val target = lease.spec.target.toString()
        return when {
            // Redis's state replies, typed with the node: Lettuce's exception is the cause.
            state != null -> {
                state.typed(error as RedisCommandExecutionException, lease.address, target)
            }

            failure == Failure.CONNECTION_LOST -> {
                ConnectionLostException(lease.address, target, error)
            }

            // Lettuce's own "not connected" rejections, after part of the block ran: typed, with the node.
            failure == Failure.NOT_CONNECTED && error !is PicketException -> {
                NodeConnectionException(lease.address, target, error)
            }

            else -> {
                error
            }
        }
    }

    private companion object {
        /** Attempts at running one block, counting the first. */
        const val MAX_ATTEMPTS = 3
    }
}
