package picket.core.internal

import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.lettuce.core.RedisReactiveCommandsImpl
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.api.coroutines.RedisCoroutinesCommandsImpl
import io.lettuce.core.codec.RedisCodec
import picket.core.Commands
import picket.core.InternalPicketApi

/** Picket's [Commands] over this connection; [tracker] counts the commands that complete. */
@InternalPicketApi
@OptIn(ExperimentalLettuceCoroutinesApi::class)
public fun <K : Any, V : Any> StatefulRedisConnection<K, V>.picketCommands(
    tracker: CommandTracker = CommandTracker(),
): Commands<K, V> = RealCommands(RedisCoroutinesCommandsImpl(reactive()), tracker)

/**
 * Picket's [Commands] in [codec] over this connection, whatever its own codec: a command carries its codec (its
 * arguments and its output), so one connection serves every codec. [tracker] counts the commands that complete.
 */
@InternalPicketApi
@OptIn(ExperimentalLettuceCoroutinesApi::class)
public fun <K : Any, V : Any> StatefulRedisConnection<*, *>.picketCommands(
    codec: RedisCodec<K, V>,
    tracker: CommandTracker = CommandTracker(),
): Commands<K, V> {
    @Suppress("UNCHECKED_CAST")
    val typed = this as StatefulRedisConnection<K, V>
    return RealCommands(RedisCoroutinesCommandsImpl(RedisReactiveCommandsImpl(typed, codec)), tracker)
}
