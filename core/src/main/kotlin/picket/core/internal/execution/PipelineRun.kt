package picket.core.internal.execution

import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisException
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

/** One pipeline; a failure keeps the replies received before it. */
internal class PipelineRun(
    private val window: Int,
    private val block: suspend Pipeline.() -> Unit,
    private val parking: suspend (Lease) -> Unit,
) {
    @Volatile
    private var last: Pipeline? = null

    @Volatile
    private var address: Address? = null

    suspend fun run(lease: Lease): List<Any?> {
        address = lease.address
        val connection = lease.connection
        val pipeline =
            Pipeline(connection, window) {
                parking(lease)
                // A window is about to be written: from here the pipeline never runs again by itself.
                lease.tracker.track {}
            }.also { last = it }
        connection.setAutoFlushCommands(false)
        try {
            pipeline.block()
            pipeline.drain()
        } finally {
            // Back to normal before the connection returns to its pool (a failed one is closed anyway).
            connection.setAutoFlushCommands(true)
        }
        return pipeline.replies
    }

    fun failure(
        spec: ConnSpec,
        error: Exception,
    ): Exception {
        val pipeline = last ?: return error
        val at = address ?: return error
        if (error is RedisCommandExecutionException) return error
        return PipelineException(at, spec.target.toString(), pipeline.replies.toList(), pipeline.queued, error)
    }
}
