package picket.sentinel.internal.failover

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.future.await
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.atomic.AtomicLong

private val log = KotlinLogging.logger {}

/**
 * Read-your-writes for one master name: how far the master's replication stream had gone after the last block
 * that ran on it. Blocks only count (an atomic increment); the offset is asked of the master (ROLE on the
 * connection the last block used, so it is ordered after that block's commands) only when a read-your-writes read
 * needs it and no earlier answer covers the blocks counted so far. Concurrent readers share one question.
 */
internal class WriteMarks {
    /** What a read-your-writes read must wait for. */
    sealed interface Required {
        /** Nothing ran on the master through this Picket: any replica will do. */
        data object NoWrites : Required

        /** The master's offset after the last block: a replica must have applied it. */
        data class Offset(
            val offset: Long,
        ) : Required

        /** The master could not say (closed connection, no answer in time, no longer master): read the master. */
        data class Unknown(
            val reason: String,
        ) : Required
    }

    private data class Mark(
        val offset: Long,
        val covers: Long,
    )

    private val blocks = AtomicLong()

    @Volatile
    private var connection: StatefulRedisConnection<String, String>? = null

    @Volatile
    private var last: Mark? = null
    private val asking = Mutex()

    /** A block ran (or tried to) on the master over [connection]. */
    fun ran(connection: StatefulRedisConnection<String, String>) {
        // The connection first: a reader that sees the new count then sees this connection or a later one.
        this.connection = connection
        blocks.incrementAndGet()
    }

    /** The offset a replica must have applied to show every block counted before this call. */
    suspend fun required(timeoutMs: Long): Required {
        val target = blocks.get()
        if (target == 0L) return Required.NoWrites
        covering(target)?.let { return it }
        return asking.withLock {
            covering(target) ?: ask(timeoutMs)
        }
    }

    private fun covering(target: Long): Required? =
        last?.takeIf { it.covers >= target }?.let { Required.Offset(it.offset) }

    private suspend fun ask(timeoutMs: Long): Required {
        val covers = blocks.get()
        val connection = connection?.takeIf { it.isOpen }
        val role = connection?.let { role(it, timeoutMs) }
        val offset = (role?.getOrNull(1) as? Number)?.toLong()
        return when {
            connection == null -> Required.Unknown("no open connection to the master of the last block")
            role == null -> Required.Unknown("the master did not answer ROLE within $timeoutMs ms")
            role.firstOrNull()?.toString() != "master" -> Required.Unknown("the node reports '${role.firstOrNull()}'")
            offset == null -> Required.Unknown("ROLE carried no offset")
            else -> Required.Offset(offset).also { last = Mark(offset, covers) }
        }
    }

    companion object {
        /** The replication offset a replica has applied (ROLE), or null if it did not answer within [timeoutMs]. */
        suspend fun appliedOffset(
            connection: StatefulRedisConnection<String, String>,
            timeoutMs: Long,
        ): Long? {
            val role = role(connection, timeoutMs) ?: return null
            return if (role.firstOrNull()?.toString() == "slave") (role.getOrNull(4) as? Number)?.toLong() else null
        }

        /** ROLE's reply, or null if the node did not answer within [timeoutMs] or the command failed. */
        private suspend fun role(
            connection: StatefulRedisConnection<String, String>,
            timeoutMs: Long,
        ): List<Any?>? =
            try {
                withTimeoutOrNull(timeoutMs) { connection.async().role().await() }
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                // A node that cannot answer cannot vouch for an offset: the caller reads the master.
                log.debug(e) { "ROLE for read-your-writes failed" }
                null
            }
    }
}
