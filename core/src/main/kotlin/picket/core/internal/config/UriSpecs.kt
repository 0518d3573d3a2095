package picket.core.internal.config

import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Tls

/** The TLS a parsed URI asks for: [given] trust or the JDK's, with its host name check; null for a plain scheme. */
internal fun ParsedUri.trustOf(given: Tls?): Tls? {
    if (!secure) {
        if (given != null) {
            throw InvalidSpecException(
                "TLS trust given for a plain $scheme:// URI: use rediss-sentinel:// or rediss://",
            )
        }
        return null
    }
    val trust = given ?: Tls.jdkTrust()
    return if (verifyHostname) trust else trust.withoutHostnameCheck()
}

/** The spec a parsed URI describes: through [sentinelGroup] for a sentinel URI, else to its one node. */
internal fun ParsedUri.specOf(
    tls: Tls?,
    sentinelGroup: String? = null,
): ConnSpec {
    val node = if (sentinel) null else nodes.single()
    return ConnSpec(
        sentinelGroup = sentinelGroup,
        masterName = masterName,
        host = node?.host,
        port = node?.port,
        username = username,
        password = password,
        database = database,
        clientName = clientName,
        commandTimeout = timeout ?: ConnSpec.DEFAULT_COMMAND_TIMEOUT,
        tls = tls,
    )
}
