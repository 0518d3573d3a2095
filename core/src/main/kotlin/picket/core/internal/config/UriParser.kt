package picket.core.internal.config

import picket.core.Address
import picket.core.InvalidSpecException
import java.time.Duration
import java.util.Locale

/** What a Redis URI in Lettuce's syntax says; credentials already percent-decoded. */
internal class ParsedUri(
    val scheme: String,
    val sentinel: Boolean,
    val secure: Boolean,
    val nodes: List<Address>,
    val username: String?,
    val password: String?,
    val database: Int,
    val clientName: String?,
    val timeout: Duration?,
    val masterName: String?,
    val verifyHostname: Boolean,
    val sentinelUsername: String?,
    val sentinelPassword: String?,
) {
    // The passwords are never shown.
    override fun toString(): String = "ParsedUri($scheme://${nodes.joinToString(",")}, masterName=$masterName)"
}

/**
 * Reads `redis-sentinel://`, `rediss-sentinel://`, `redis://`, `rediss://` and `redis+ssl://` URIs in Lettuce's
 * syntax (Lettuce's `RedisURI`), plus Picket's `sentinelUsername` and `sentinelPassword` query parameters, which
 * Lettuce's syntax lacks. By hand rather than with `java.net.URI`, whose errors quote the whole input, password
 * included: every error here names the part that is wrong and never a credential.
 *
 * Credentials end at the last `@` before the first `?` or `#`, so `/`, `:` and `@` may appear in a password
 * unencoded; `?`, `#` and `%` must be percent-encoded.
 */
internal object UriParser {
    const val SENTINEL_PORT: Int = 26379
    const val REDIS_PORT: Int = 6379

    private val SENTINEL_SCHEMES = setOf("redis-sentinel", "rediss-sentinel")
    private val DIRECT_SCHEMES = setOf("redis", "rediss", "redis+ssl")
    private val IGNORED = setOf("libraryname", "libraryversion")

    fun parse(uri: String): ParsedUri {
        val parts = UriParts.of(uri)
        val scheme = parts.scheme
        val sentinel = scheme in SENTINEL_SCHEMES
        if (!sentinel && scheme !in DIRECT_SCHEMES) {
            invalid(
                "URI scheme '${scheme.take(MAX_SCHEME)}' is not supported: use redis-sentinel://, " +
                    "rediss-sentinel://, redis:// or rediss:// (STARTTLS and Unix sockets are not supported)",
            )
        }
        val path = parts.path
        val nodes = nodes(scheme, sentinel, parts.hosts)
        val (username, password) = credentials(parts.userInfo)
        val params = QueryParams(scheme, parts.query)
        val pathDatabase = if (path.isEmpty()) null else database(path, "the path '/$path'")
        val database = params.take("database", "db")?.let { database(it, "database=$it") } ?: pathDatabase ?: 0
        val masterName = masterName(sentinel, parts.fragment, params.take("sentinelmasterid"))
        val timeout = params.take("timeout")?.let { timeout(it) }
        val clientName = params.take("clientname")?.let { decode(it, "clientName") }
        val verifyPeer = params.take("verifypeer")
        val (sentinelUsername, sentinelPassword) = sentinelCredentials(params, sentinel, scheme)
        params.finish()
        val secure = scheme.startsWith("rediss") || scheme == "redis+ssl"
        return ParsedUri(
            scheme = scheme,
            sentinel = sentinel,
            secure = secure,
            nodes = nodes,
            username = username,
            password = password,
            database = database,
            clientName = clientName,
            timeout = timeout,
            masterName = masterName,
            verifyHostname = verifyHostname(scheme, secure, verifyPeer),
            sentinelUsername = sentinelUsername,
            sentinelPassword = sentinelPassword,
        )
    }

    private const val MAX_SCHEME = 20

    private fun sentinelCredentials(
        params: QueryParams,
        sentinel: Boolean,
        scheme: String,
    ): Pair<String?, String?> {
        val username = params.take("sentinelusername")?.let { decode(it, "sentinelUsername") }
        val password = params.takeSecret("sentinelpassword")
        if (!sentinel && (username != null || password != null)) {
            invalid("sentinelUsername and sentinelPassword apply to redis-sentinel:// URIs, not $scheme://")
        }
        return username to password
    }

    /** A URI cut into its parts, nothing decoded or checked yet but the scheme's presence and the '@'s place. */
    private data class UriParts(
        val hosts: String,
        val path: String,
        val query: String,
        val fragment: String?,
        val scheme: String,
        val userInfo: String?,
    ) {
        companion object {
            fun of(uri: String): UriParts {
                val schemeEnd = uri.indexOf("://")
                if (schemeEnd <= 0) {
                    invalid("a Redis URI starts with a scheme: redis-sentinel://, rediss-sentinel://, redis://")
                }
                val rest = uri.substring(schemeEnd + 3)
                val hierEnd = rest.indexOfAny(charArrayOf('?', '#')).let { if (it < 0) rest.length else it }
                val hier = rest.substring(0, hierEnd)
                val tail = rest.substring(hierEnd)
                // A '?' or '#' in an unencoded password leaves part of it after them: refuse without quoting anything.
                if ('@' in tail) {
                    invalid(
                        "the URI has an '@' after its '?' or '#': percent-encode '?' and '#' in credentials (%3F, %23)",
                    )
                }
                val at = hier.lastIndexOf('@')
                val hostsAndPath = hier.substring(at + 1)
                val fragmentAt = tail.indexOf('#')
                return UriParts(
                    hosts = hostsAndPath.substringBefore('/'),
                    path = if ('/' in hostsAndPath) hostsAndPath.substringAfter('/') else "",
                    query = (if (fragmentAt < 0) tail else tail.substring(0, fragmentAt)).removePrefix("?"),
                    fragment = if (fragmentAt < 0) null else tail.substring(fragmentAt + 1),
                    scheme = uri.substring(0, schemeEnd).lowercase(Locale.ROOT),
                    userInfo = if (at >= 0) hier.substring(0, at) else null,
                )
            }
        }

        // The credentials are never shown.
        override fun toString(): String = "UriParts($scheme://$hosts)"
    }

    private fun nodes(
        scheme: String,
        sentinel: Boolean,
        hosts: String,
    ): List<Address> {
        val shown = " '$hosts'"
        if (hosts.isBlank()) invalid("$scheme:// URI names no host$shown")
        val parts = hosts.split(',')
        if (!sentinel && parts.size > 1) {
            invalid("a $scheme:// URI names one node, not ${parts.size}$shown: use redis-sentinel:// for sentinels")
        }
        val nodes = parts.map { node(it, if (sentinel) SENTINEL_PORT else REDIS_PORT) }
        if (nodes.toSet().size != nodes.size) invalid("duplicate sentinels in the URI$shown")
        return nodes
    }

    private fun node(
        text: String,
        defaultPort: Int,
    ): Address {
        val shown = "'$text'"
        val host: String
        val port: String?
        if (text.startsWith('[')) {
            val close = text.indexOf(']')
            if (close < 0) invalid("$shown: an IPv6 address needs its closing ']'")
            host = text.substring(1, close)
            val after = text.substring(close + 1)
            if (after.isNotEmpty() && !after.startsWith(':')) invalid("$shown is not [ipv6]:port")
            port = after.removePrefix(":").takeIf { after.isNotEmpty() }
        } else {
            if (text.count { it == ':' } > 1) invalid("$shown: write an IPv6 address in brackets, [::1]:26379")
            host = text.substringBefore(':')
            port = if (':' in text) text.substringAfter(':') else null
        }
        if (host.isBlank()) invalid("$shown has no host")
        val number = if (port == null) defaultPort else port.toIntOrNull() ?: invalid("$shown: port is not a number")
        return Address(host, number)
    }

    /** `user:password`, `:password` or `password`, as Lettuce reads them; never quoted in errors. */
    private fun credentials(userInfo: String?): Pair<String?, String?> {
        if (userInfo.isNullOrEmpty()) return null to null
        val colon = userInfo.indexOf(':')
        val (user, password) =
            when {
                colon < 0 -> null to userInfo
                colon == 0 -> null to userInfo.substring(1)
                else -> userInfo.substring(0, colon) to userInfo.substring(colon + 1)
            }
        val decodedUser = user?.let { ConfigText.percentDecoded(it) ?: invalid("the URI's username: bad %-encoding") }
        val decodedPassword =
            ConfigText.percentDecoded(password) ?: invalid("the URI's password: bad %-encoding (value not shown)")
        return decodedUser to decodedPassword.ifEmpty { null }
    }

    private fun database(
        text: String,
        where: String,
    ): Int = text.toIntOrNull()?.takeIf { it >= 0 } ?: invalid("$where: the database is not a number >= 0")

    private fun masterName(
        sentinel: Boolean,
        fragment: String?,
        parameter: String?,
    ): String? {
        val fromFragment = fragment?.let { decode(it, "the master name (#fragment)") }?.ifEmpty { null }
        val fromQuery = parameter?.let { decode(it, "sentinelMasterId") }?.ifEmpty { null }
        if (!sentinel) {
            if (fromFragment != null || fromQuery != null) {
                invalid("a master name (#fragment or sentinelMasterId) applies to redis-sentinel:// URIs only")
            }
            return null
        }
        if (fromFragment != null && fromQuery != null && fromFragment != fromQuery) {
            invalid("the URI names two master names: #$fromFragment and sentinelMasterId=$fromQuery")
        }
        return fromFragment ?: fromQuery
            ?: invalid("a redis-sentinel:// URI needs the master name: #mymaster or sentinelMasterId=mymaster")
    }

    private fun timeout(text: String): Duration {
        val duration =
            ConfigText.duration(text) ?: invalid("timeout=$text is not a duration (${ConfigText.DURATION_FORMS})")
        if (duration.isNegative || duration.isZero) invalid("timeout=$text must be > 0")
        return duration
    }

    private fun verifyHostname(
        scheme: String,
        secure: Boolean,
        verifyPeer: String?,
    ): Boolean {
        if (verifyPeer == null) return true
        if (!secure) {
            invalid(
                "verifyPeer=$verifyPeer applies to TLS URIs (rediss://, rediss-sentinel://), not $scheme://",
            )
        }
        return when (verifyPeer.uppercase(Locale.ROOT)) {
            "FULL" -> true
            "CA" -> false
            "NONE" -> invalid("verifyPeer=NONE: Picket always verifies the certificate chain (CA or FULL)")
            else -> invalid("verifyPeer=$verifyPeer is not one of FULL, CA")
        }
    }

    private fun decode(
        text: String,
        what: String,
    ): String = ConfigText.percentDecoded(text) ?: invalid("$what: bad %-encoding in '$text'")

    /** The query's parameters by lower-cased name; each is taken once, and what is left is an error. */
    private class QueryParams(
        private val scheme: String,
        query: String,
    ) {
        private val params = LinkedHashMap<String, Pair<String, String>>()

        init {
            query.split('&', ';').filter { it.isNotEmpty() }.forEach { pair ->
                val name = pair.substringBefore('=')
                val key = name.lowercase(Locale.ROOT)
                if ('=' !in pair) invalid("URI parameter '$name' has no value")
                if (key in params) invalid("URI parameter '$name' is given twice")
                params[key] = name to pair.substringAfter('=')
            }
        }

        fun take(vararg names: String): String? {
            val found = names.filter { it in params }
            if (found.size > 1) invalid("URI parameters ${found.joinToString(" and ")} say the same thing; give one")
            return found.firstOrNull()?.let { params.remove(it)?.second }
        }

        fun takeSecret(name: String): String? =
            params.remove(name)?.second?.let {
                ConfigText.percentDecoded(it) ?: invalid("sentinelPassword: bad %-encoding (value not shown)")
            }

        fun finish() {
            IGNORED.forEach { params.remove(it) }
            if (params.isNotEmpty()) {
                invalid(
                    "unknown $scheme:// URI parameter(s) ${params.values.joinToString { it.first }}: known are " +
                        "timeout, database (db), clientName, verifyPeer, sentinelMasterId, sentinelUsername, " +
                        "sentinelPassword, libraryName, libraryVersion",
                )
            }
        }
    }
}

private fun invalid(message: String): Nothing = throw InvalidSpecException(message)
