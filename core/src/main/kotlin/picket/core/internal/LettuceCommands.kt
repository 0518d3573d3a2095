package picket.core.internal

import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.api.coroutines.RedisCoroutinesCommandsImpl
import picket.core.Commands

/** Picket's [Commands] over this connection; [tracker] counts the suspending commands that complete. */
@OptIn(ExperimentalLettuceCoroutinesApi::class)
internal fun <K : Any, V : Any> StatefulRedisConnection<K, V>.picketCommands(
    tracker: CommandTracker = CommandTracker(),
): Commands<K, V> = RealCommands(RedisCoroutinesCommandsImpl(reactive()), tracker)
