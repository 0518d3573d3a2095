package picket.mq

import picket.sentinel.testing.PlainClient
import picket.testkit.RedisNode

/** A plain Lettuce client, as `redis-cli` would be: no Picket, no scripts. */
object Raw : PlainClient() {
    /** Calls of each command on [node] so far (`INFO commandstats`), by command name. */
    fun commandCalls(node: RedisNode): Map<String, Long> =
        on(node) { it.info("commandstats") }
            .lines()
            .filter { it.startsWith("cmdstat_") }
            .associate { line ->
                line.substringAfter("cmdstat_").substringBefore(":") to
                    line.substringAfter("calls=").substringBefore(",").toLong()
            }
}
