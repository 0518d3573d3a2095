package picket.core.internal.execution

import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.NestedMultiOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.ProtocolKeyword
import kotlinx.coroutines.future.await
import java.nio.charset.StandardCharsets

/** `WAITAOF`, which Lettuce has no method for: sent with `dispatch`. */
internal object Aof {
    private object WaitAof : ProtocolKeyword {
        private val bytes = "WAITAOF".toByteArray(StandardCharsets.US_ASCII)

        override fun getBytes(): ByteArray = bytes

        override fun toString(): String = "WAITAOF"
    }

    /**
     * Sends `WAITAOF numlocal numreplicas timeout` on [connection] and returns how many local fsyncs (0 or 1) and
     * how many replicas confirmed.
     */
    suspend fun await(
        connection: StatefulRedisConnection<String, String>,
        local: Boolean,
        replicas: Int,
        timeoutMs: Long,
    ): Pair<Long, Long> {
        val args =
            CommandArgs(StringCodec.UTF8)
                .add(if (local) 1L else 0L)
                .add(replicas.toLong())
                .add(timeoutMs)
        val reply =
            connection
                .async()
                .dispatch(WaitAof, NestedMultiOutput(StringCodec.UTF8), args)
                .await()
        val counts = reply.map { (it as? Number)?.toLong() ?: 0L }
        return counts.getOrElse(0) { 0L } to counts.getOrElse(1) { 0L }
    }
}
