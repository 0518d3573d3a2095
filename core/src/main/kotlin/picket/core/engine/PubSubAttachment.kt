package picket.core.engine

import io.lettuce.core.codec.ByteArrayCodec
import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import picket.core.Address
import picket.core.InternalPicketApi

/**
 * For Picket's own modules: a pub/sub connection that [PicketEngine.openPubSub] opened, and the node it is on (the
 * address Sentinel announces). Its codec is [codec]: channel names and patterns (Lettuce's keys) are UTF-8 strings,
 * messages (its values) raw bytes, so that any payload arrives unchanged.
 */
@InternalPicketApi
public class PubSubAttachment internal constructor(
    public val address: Address,
    public val connection: StatefulRedisPubSubConnection<String, ByteArray>,
) {
    public companion object {
        /**
         * The codec of every pub/sub connection, and of publishing: channels and patterns as UTF-8 strings, messages
         * as bytes, never decoded.
         */
        public val codec: RedisCodec<String, ByteArray> = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE)
    }
}
