package picket.sentinel

import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import picket.core.Address
import picket.core.InternalPicketApi

/**
 * A pub/sub connection that [Picket.openPubSub] opened for one of Picket's modules, and the node it is on (the
 * address Sentinel announces).
 */
@InternalPicketApi
public class PubSubAttachment(
    public val address: Address,
    public val connection: StatefulRedisPubSubConnection<String, String>,
)
