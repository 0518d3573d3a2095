package picket.core

import picket.core.internal.config.UriParser
import picket.core.internal.config.specOf
import picket.core.internal.config.trustOf

/**
 * A `redis-sentinel://` URI in Lettuce's syntax, read into what Picket keeps apart: the sentinel [group] to declare
 * and, for the name it is declared under, the [spec] of its master. Parse with [SentinelUri.parse].
 *
 * ```
 * redis-sentinel://[[username:]password@]host1[:port1][,host2[:port2]…][/database]
 *     [?timeout=…&database=…&clientName=…&sentinelMasterId=…&sentinelUsername=…&sentinelPassword=…]#masterName
 * ```
 * `rediss-sentinel://` is the same over TLS to the sentinels and the data nodes. As in Lettuce, the credentials
 * before `@` are the data nodes' ([ConnSpec.username], [ConnSpec.password]) and `timeout` is the command timeout of
 * data connections ([ConnSpec.commandTimeout]; a bare number is milliseconds). Lettuce's syntax has no sentinel
 * credentials; Picket reads them from `sentinelUsername` and `sentinelPassword`. A sentinel without a port is on
 * 26379. `libraryName` and `libraryVersion` are accepted and ignored; any other parameter is an error.
 *
 * ```java
 * SentinelUri uri = SentinelUri.parse("redis-sentinel://:secret@10.0.0.1,10.0.0.2:26380/2?timeout=2s#orders");
 * picket.addSentinelGroups(Map.of("orders", uri.group()));
 * ConnSpec orders = uri.spec("orders");
 * ```
 *
 * ## Pitfalls
 * In the credentials `?`, `#` and `%` must be percent-encoded (`%3F`, `%23`, `%25`); `/`, `:` and `@` may stay.
 *
 * @property group the sentinel group the URI describes, every setting it does not name at its default.
 * @property masterName the master name: the `#fragment` or `sentinelMasterId` (the same if both are given).
 */
public class SentinelUri private constructor(
    @get:JvmName("group") public val group: SentinelGroup,
    @get:JvmName("masterName") public val masterName: String,
    private val template: ConnSpec,
) {
    /**
     * The spec of [masterName] through the group declared as [groupName], with the URI's data-node credentials,
     * database, client name, command timeout and TLS.
     *
     * @throws InvalidSpecException if [groupName] is blank.
     */
    public fun spec(groupName: String): ConnSpec = template.copy(sentinelGroup = groupName)

    // The passwords are never shown.
    override fun toString(): String = "SentinelUri(masterName=$masterName, group=$group, spec=$template)"

    public companion object {
        /**
         * Reads [uri]. A `rediss-sentinel://` URI trusts [tls] if given, else the JDK's authorities
         * ([Tls.jdkTrust]); `verifyPeer=CA` checks the chain only, `verifyPeer=NONE` is refused.
         *
         * @throws InvalidSpecException naming the part that is wrong (never a password): the scheme, a host or port,
         *   the database, a duration, a missing or doubled master name, an unknown parameter, [tls] given for a
         *   plain `redis-sentinel://` URI.
         */
        @JvmStatic
        @JvmOverloads
        public fun parse(
            uri: String,
            tls: Tls? = null,
        ): SentinelUri {
            val parsed = UriParser.parse(uri)
            if (!parsed.sentinel) {
                throw InvalidSpecException(
                    "a ${parsed.scheme}:// URI names one node: use redis-sentinel:// (or RedisUri.direct for it)",
                )
            }
            val trust = parsed.trustOf(tls)
            val group =
                SentinelGroup(
                    sentinels = parsed.nodes,
                    username = parsed.sentinelUsername,
                    password = parsed.sentinelPassword,
                    tls = trust,
                )
            val masterName = checkNotNull(parsed.masterName) { "the parser requires a master name" }
            return SentinelUri(group, masterName, parsed.specOf(trust, sentinelGroup = URI_GROUP))
        }

        private const val URI_GROUP = "uri"
    }
}
