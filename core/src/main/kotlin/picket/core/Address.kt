package picket.core

/**
 * A node's network address as Sentinel reports it: a host (name or IP literal) and a TCP port. An IPv6 literal is
 * held without brackets and written with them (`[::1]:26379`).
 *
 * ```kotlin
 * val address = Address("127.0.0.1", 6379)
 * check(address.toString() == "127.0.0.1:6379")
 * check(Address.parse("[::1]:26379") == Address("::1", 26379))
 * ```
 *
 * @throws InvalidSpecException if [host] is blank or [port] is outside 1..65535.
 */
public data class Address(
    public val host: String,
    public val port: Int,
) {
    init {
        if (host.isBlank()) throw InvalidSpecException("host is blank")
        if (port !in 1..MAX_PORT) throw InvalidSpecException("port $port of host '$host' is outside 1..$MAX_PORT")
    }

    /** `host:port`, or `[host]:port` for an IPv6 literal. */
    override fun toString(): String = if (':' in host) "[$host]:$port" else "$host:$port"

    public companion object {
        private const val MAX_PORT = 65535

        /**
         * Parses `host:port`, or `[host]:port` for an IPv6 literal (held without the brackets).
         *
         * @throws InvalidSpecException if [text] is not `host:port` with a valid port.
         */
        @JvmStatic
        public fun parse(text: String): Address {
            val colon = text.lastIndexOf(':')
            val port = text.substring(colon + 1).toIntOrNull()
            if (colon <= 0 || port == null) throw InvalidSpecException("'$text' is not host:port")
            val host = text.substring(0, colon)
            val bracketed = host.length > 2 && host.startsWith('[') && host.endsWith(']')
            return Address(if (bracketed) host.substring(1, host.length - 1) else host, port)
        }
    }
}
