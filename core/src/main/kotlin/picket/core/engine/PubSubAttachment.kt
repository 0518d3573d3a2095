package picket.core.engine

import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import picket.core.Address
import picket.core.InternalPicketApi

/**
 * For Picket's own modules: a pub/sub connection that [PicketEngine.openPubSub] opened, and the node it is on (the
 * address Sentinel announces).
 */
@InternalPicketApi
public class PubSubAttachment internal constructor(
    public val address: Address,
    public val connection: StatefulRedisPubSubConnection<String, String>,
)
