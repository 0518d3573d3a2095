package picket.core.internal.execution

import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisException
import io.lettuce.core.codec.StringCodec
import kotlinx.coroutines.future.await
import picket.core.Address
import picket.core.ConnSpec
import picket.core.ConnectionLostException
import picket.core.InternalPicketApi
import picket.core.NodeConnectionException
import picket.core.Pipeline
import picket.core.PipelineException
import picket.core.Transaction
import picket.core.TransactionInterruptedException
import picket.core.TransactionOutcome
import picket.core.engine.Lease
import picket.core.internal.picketCommands

/** One transaction: WATCH, the block's reads, MULTI, the queued commands, EXEC; and what it had sent when it failed. */
@OptIn(InternalPicketApi::class)
internal class TransactionRun(
    private val watch: List<String>,
    private val block: suspend Transaction.() -> Unit,
    private val parking: suspend (Lease) -> Unit,
) {
    @Volatile
    private var address: Address? = null

    @Volatile
    private var execSent = false

    @Suppress("SpreadOperator") // WATCH takes varargs; the list is the caller's, copied once
    suspend fun run(lease: Lease): TransactionOutcome {
        address = lease.address
        execSent = false
        val connection = lease.connection
        val async = connection.async()
        if (watch.isNotEmpty()) async.watch(*watch.toTypedArray()).await()
        val transaction =
            Transaction.of(
                connection.picketCommands(lease.tracker),
                Tracked.sync(lease, StringCodec.UTF8),
            )
        transaction.block()
        parking(lease)
        async.multi().await()
        // From here the transaction may run: never again by itself, whatever fails next.
        lease.tracker.track {}
        transaction.queued.forEach { it.accept(async) }
        execSent = true
        val result = async.exec().await()
        return if (result.wasDiscarded()) {
            TransactionOutcome.Aborted(
                watch,
            )
        } else {
            TransactionOutcome.Committed(result.toList())
        }
    }

    /** [error] as the caller sees it: a lost connection after the transaction began says whether EXEC was sent. */
    fun failure(
        spec: ConnSpec,
        error: Exception,
    ): Exception {
        val at = address ?: return error
        val lost =
            error is ConnectionLostException ||
                error is NodeConnectionException ||
                (error is RedisException && error !is RedisCommandExecutionException)
        return if (lost) TransactionInterruptedException(at, spec.target.toString(), execSent, error) else error
    }
}
