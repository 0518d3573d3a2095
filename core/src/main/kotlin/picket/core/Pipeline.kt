package picket.core

import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisFuture
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.api.async.RedisAsyncCommands
import kotlinx.coroutines.future.await
import java.util.function.Function

/**
 * What a [Picket.pipeline] block gets: [add] queues one command. Commands are written to the connection together,
 * [window] at a time; at most [window] replies are awaited at once, so a pipeline of any length holds a bounded
 * number of commands in flight. A command's error reply (such as `WRONGTYPE`) is its reply, a
 * [RedisCommandExecutionException] in the list; a failure of the connection fails the pipeline with
 * [picket.core.PipelineException]. A pipeline is not a transaction: other clients' commands may run between its
 * commands ([Picket.transaction] is atomic).
 */
public class Pipeline internal constructor(
    private val connection: StatefulRedisConnection<String, String>,
    /** How many commands are written before their replies are awaited. */
    public val window: Int,
    private val beforeFlush: suspend () -> Unit,
) {
    private val async: RedisAsyncCommands<String, String> = connection.async()

    // The window's commands are applied to the connection only once it is written: Lettuce starts a command's
    // timeout when it is buffered, and a window may wait for a failover (write parking) before it is written.
    private val pending = ArrayList<Function<RedisAsyncCommands<String, String>, RedisFuture<*>>>(window)
    internal val replies = ArrayList<Any?>()

    /** How many commands were queued so far. */
    public var queued: Int = 0
        private set

    /** Queues [command]; when [window] commands are pending they are written and their replies awaited. */
    public suspend fun add(command: Function<RedisAsyncCommands<String, String>, RedisFuture<*>>) {
        pending += command
        queued++
        if (pending.size >= window) drain()
    }

    /** Writes the pending commands and awaits their replies, in order. */
    internal suspend fun drain() {
        if (pending.isEmpty()) return
        beforeFlush()
        val futures = pending.map { it.apply(async) }
        pending.clear()
        connection.flushCommands()
        futures.forEach { future ->
            // An error reply is that command's reply; only a failure of the connection fails the pipeline.
            replies +=
                try {
                    future.toCompletableFuture().await()
                } catch (e: RedisCommandExecutionException) {
                    e
                }
        }
    }
}
