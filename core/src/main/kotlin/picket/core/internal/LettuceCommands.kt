package picket.core.internal

import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.api.coroutines.RedisCoroutinesCommandsImpl
import picket.core.Commands
import picket.core.InternalPicketApi

/** Picket's [Commands] over this connection; [tracker] counts the commands that complete. */
@InternalPicketApi
@OptIn(ExperimentalLettuceCoroutinesApi::class)
public fun <K : Any, V : Any> StatefulRedisConnection<K, V>.picketCommands(
    tracker: CommandTracker = CommandTracker(),
): Commands<K, V> = RealCommands(RedisCoroutinesCommandsImpl(reactive()), tracker)
