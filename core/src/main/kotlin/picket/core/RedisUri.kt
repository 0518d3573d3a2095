package picket.core

import picket.core.internal.config.UriParser
import picket.core.internal.config.specOf
import picket.core.internal.config.trustOf

/**
 * Direct specs from `redis://` URIs in Lettuce's syntax: one node, bypassing Sentinel ([SpecTarget.Direct]). For a
 * master behind Sentinel, see [SentinelUri].
 *
 * ```
 * redis://[[username:]password@]host[:port][/database][?timeout=…&database=…&clientName=…]
 * ```
 * `rediss://` (or `redis+ssl://`) is the same over TLS. A node without a port is on 6379; `timeout` is the command
 * timeout ([ConnSpec.commandTimeout]; a bare number is milliseconds).
 *
 * ```java
 * ConnSpec local = RedisUri.direct("redis://app:secret@127.0.0.1:6379/1?clientName=billing");
 * ```
 */
public object RedisUri {
    /**
     * The direct spec [uri] describes. A `rediss://` URI trusts [tls] if given, else the JDK's authorities
     * ([Tls.jdkTrust]); `verifyPeer=CA` checks the chain only, `verifyPeer=NONE` is refused.
     *
     * @throws InvalidSpecException naming the part that is wrong (never a password); for a `redis-sentinel://` URI,
     *   which needs a group name ([SentinelUri]).
     */
    @JvmStatic
    @JvmOverloads
    public fun direct(
        uri: String,
        tls: Tls? = null,
    ): ConnSpec {
        val parsed = UriParser.parse(uri)
        if (parsed.sentinel) {
            throw InvalidSpecException(
                "a ${parsed.scheme}:// URI names sentinels and a master: read it with SentinelUri.parse",
            )
        }
        return parsed.specOf(parsed.trustOf(tls))
    }
}
