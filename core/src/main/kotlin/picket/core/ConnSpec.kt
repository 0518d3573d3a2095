package picket.core

import java.time.Duration

/**
 * Where and how a `withConn` block connects: through a sentinel group ([sentinelGroup] and [masterName]) or
 * directly to [host] and [port], with the data node's credentials and options. Immutable; the options are applied
 * to whatever address Sentinel resolves, so two specs on one master keep their own database, client name and
 * credentials.
 *
 * ```kotlin
 * val orders = ConnSpec(sentinelGroup = "group1", masterName = "mymaster", password = "secret")
 * val reads = orders.preferReplica(Balancers.roundRobin())
 * val local = ConnSpec(host = "127.0.0.1", port = 6379)
 * ```
 * Java: `ConnSpec.sentinel("group1", "mymaster").password("secret").build()`.
 *
 * @property sentinelGroup the declared sentinel group that resolves [masterName]; null for a direct spec.
 * @property masterName the master name the group's sentinels monitor.
 * @property host the node of a direct spec, bypassing Sentinel.
 * @property port the port of a direct spec.
 * @property username the ACL user on data nodes, or null for `default`.
 * @property password the data nodes' password, or null. Never printed.
 * @property database the logical database (`SELECT`).
 * @property clientName the `CLIENT SETNAME` of the connections, or null.
 * @property connectTimeout how long a TCP connect and handshake to a data node may take.
 * @property commandTimeout how long one command may wait for its reply before it fails (with Lettuce's
 *   `RedisCommandTimeoutException`). A block's wait for a failover announced by Sentinel (write parking) is not
 *   counted: the sentinel group's parking timeout bounds it.
 * @property readFrom master, or a replica chosen by a balancer.
 * @property durability how many replicas must confirm a block's writes before it returns.
 * @property idempotent whether blocks on this spec may run again after an error that leaves unknown whether they
 *   ran (a failover in the middle); blocks that provably did not run are retried regardless.
 * @property poolSize how many dedicated connections (blocking commands, transactions, pipelines) one node may have
 *   open for this spec's credentials at once.
 * @property connectionScope specs with different scopes never share a connection, even to the same node with the
 *   same credentials; null (the default) shares. A read/write pair uses a scope of its own, so that disconnecting
 *   it closes only its connections.
 * @property keepAlive TCP keepalive of the data connections (TwiceRedis's 1 s / 3 s / 5 by default), or null for none.
 * @property poolWait how long a block waits for a dedicated connection when [poolSize] are in use, before
 *   [PoolExhaustedException].
 * @property tls TLS to the data nodes with its trust material, or null for plain TCP (see [Tls]).
 * @throws InvalidSpecException if the spec is neither sentinel nor direct, or a value is out of range.
 */
public data class ConnSpec(
    public val sentinelGroup: String? = null,
    public val masterName: String? = null,
    public val host: String? = null,
    public val port: Int? = null,
    public val username: String? = null,
    public val password: String? = null,
    public val database: Int = 0,
    public val clientName: String? = null,
    public val connectTimeout: Duration = DEFAULT_CONNECT_TIMEOUT,
    public val commandTimeout: Duration = DEFAULT_COMMAND_TIMEOUT,
    public val readFrom: ReadFrom = ReadFrom.Master,
    public val durability: Durability = Durability.None,
    public val idempotent: Boolean = false,
    public val poolSize: Int = DEFAULT_POOL_SIZE,
    public val poolWait: Duration = DEFAULT_POOL_WAIT,
    public val connectionScope: String? = null,
    public val keepAlive: KeepAlive? = KeepAlive.DEFAULT,
    public val tls: Tls? = null,
) {
    /** What the spec points at: [sentinelGroup] and [masterName], or [host] and [port], checked and typed. */
    public val target: SpecTarget = targetOf(sentinelGroup, masterName, host, port)

    init {
        if (database < 0) invalid("database is $database, must be >= 0")
        if (username != null && username.isBlank()) invalid("username is blank: use null for the default user")
        if (clientName != null && (clientName.isEmpty() || clientName.any { it.isWhitespace() })) {
            invalid("client name '$clientName' must be non-empty and without spaces")
        }
        positive("connectTimeout", connectTimeout)
        positive("commandTimeout", commandTimeout)
        positive("poolWait", poolWait)
        if (poolSize < 1) invalid("poolSize is $poolSize, must be >= 1")
        if (connectionScope != null && connectionScope.isBlank()) invalid("connectionScope is blank: use null to share")
    }

    /** True for a spec that names a host and port and bypasses Sentinel ([target] is [SpecTarget.Direct]). */
    public val isDirect: Boolean get() = target is SpecTarget.Direct

    /** This spec reading from a healthy replica chosen by [balancer], falling back to the master unless told not to. */
    @JvmOverloads
    public fun preferReplica(
        balancer: Balancer = Balancers.random,
        fallbackToMaster: Boolean = true,
    ): ConnSpec = copy(readFrom = ReadFrom.PreferReplica(balancer, fallbackToMaster))

    /**
     * This replica-reading spec with read-your-writes: a block runs on a replica only once that replica has every
     * write that blocks on the master acknowledged before it started (see [ReadFrom.PreferReplica.readYourWrites]).
     *
     * @throws InvalidSpecException if the spec reads from the master, which is always consistent with itself.
     */
    public fun readYourWrites(): ConnSpec =
        when (val readFrom = readFrom) {
            is ReadFrom.PreferReplica -> copy(readFrom = readFrom.copy(readYourWrites = true))
            ReadFrom.Master -> invalid("read-your-writes applies to replica reads; $target reads from the master")
        }

    /** This spec with [durability]. */
    public fun withDurability(durability: Durability): ConnSpec = copy(durability = durability)

    /** What the spec points at, for messages: `group/masterName` or `host:port` ([target]'s text). */
    @Deprecated("the target is typed now", ReplaceWith("target.toString()"))
    public fun target(): String = target.toString()

    // The password is never shown.
    override fun toString(): String =
        "ConnSpec($target, username=$username, password=${password?.let { "***" }}, database=$database, " +
            "clientName=$clientName, connectTimeout=$connectTimeout, commandTimeout=$commandTimeout, " +
            "readFrom=$readFrom, durability=$durability, idempotent=$idempotent, poolSize=$poolSize, " +
            "poolWait=$poolWait, connectionScope=$connectionScope, keepAlive=$keepAlive, tls=$tls)"

    /** A builder for Java callers; Kotlin callers use named arguments. */
    public class Builder internal constructor(
        private var spec: SpecValues,
    ) {
        /** Sets [ConnSpec.username]. */
        public fun username(username: String?): Builder = apply { spec = spec.copy(username = username) }

        /** Sets [ConnSpec.password]. */
        public fun password(password: String?): Builder = apply { spec = spec.copy(password = password) }

        /** Sets [ConnSpec.database]. */
        public fun database(database: Int): Builder = apply { spec = spec.copy(database = database) }

        /** Sets [ConnSpec.clientName]. */
        public fun clientName(clientName: String?): Builder = apply { spec = spec.copy(clientName = clientName) }

        /** Sets [ConnSpec.connectTimeout]. */
        public fun connectTimeout(timeout: Duration): Builder = apply { spec = spec.copy(connectTimeout = timeout) }

        /** Sets [ConnSpec.commandTimeout]. */
        public fun commandTimeout(timeout: Duration): Builder = apply { spec = spec.copy(commandTimeout = timeout) }

        /** Reads from a replica that [balancer] picks; see [ConnSpec.preferReplica]. */
        @JvmOverloads
        public fun preferReplica(
            balancer: Balancer = Balancers.random,
            fallbackToMaster: Boolean = true,
        ): Builder = apply { spec = spec.copy(readFrom = ReadFrom.PreferReplica(balancer, fallbackToMaster)) }

        /** Reads from a replica only once it has this Picket's acknowledged writes; see [ConnSpec.readYourWrites]. */
        public fun readYourWrites(): Builder =
            apply {
                val readFrom =
                    spec.readFrom as? ReadFrom.PreferReplica
                        ?: throw InvalidSpecException(
                            "read-your-writes applies to replica reads: call preferReplica first",
                        )
                spec = spec.copy(readFrom = readFrom.copy(readYourWrites = true))
            }

        /** Sets [ConnSpec.durability]. */
        public fun durability(durability: Durability): Builder = apply { spec = spec.copy(durability = durability) }

        /** Sets [ConnSpec.idempotent]. */
        public fun idempotent(idempotent: Boolean): Builder = apply { spec = spec.copy(idempotent = idempotent) }

        /** Sets [ConnSpec.poolSize]. */
        public fun poolSize(size: Int): Builder = apply { spec = spec.copy(poolSize = size) }

        /** Sets [ConnSpec.poolWait]. */
        public fun poolWait(wait: Duration): Builder = apply { spec = spec.copy(poolWait = wait) }

        /** Sets [ConnSpec.keepAlive]; null turns TCP keepalive off. */
        public fun keepAlive(keepAlive: KeepAlive?): Builder = apply { spec = spec.copy(keepAlive = keepAlive) }

        /** Sets [ConnSpec.tls]; null for plain TCP. */
        public fun tls(tls: Tls?): Builder = apply { spec = spec.copy(tls = tls) }

        /** Sets [ConnSpec.connectionScope]. */
        public fun connectionScope(scope: String?): Builder = apply { spec = spec.copy(connectionScope = scope) }

        /**
         * The validated spec.
         *
         * @throws InvalidSpecException naming the first value that is wrong.
         */
        public fun build(): ConnSpec = spec.toSpec()
    }

    /** The builder's values; validated only by [ConnSpec]'s constructor. */
    internal data class SpecValues(
        val sentinelGroup: String? = null,
        val masterName: String? = null,
        val host: String? = null,
        val port: Int? = null,
        val username: String? = null,
        val password: String? = null,
        val database: Int = 0,
        val clientName: String? = null,
        val connectTimeout: Duration = DEFAULT_CONNECT_TIMEOUT,
        val commandTimeout: Duration = DEFAULT_COMMAND_TIMEOUT,
        val readFrom: ReadFrom = ReadFrom.Master,
        val durability: Durability = Durability.None,
        val idempotent: Boolean = false,
        val poolSize: Int = DEFAULT_POOL_SIZE,
        val poolWait: Duration = DEFAULT_POOL_WAIT,
        val connectionScope: String? = null,
        val keepAlive: KeepAlive? = KeepAlive.DEFAULT,
        val tls: Tls? = null,
    ) {
        fun toSpec(): ConnSpec =
            ConnSpec(
                sentinelGroup,
                masterName,
                host,
                port,
                username,
                password,
                database,
                clientName,
                connectTimeout,
                commandTimeout,
                readFrom,
                durability,
                idempotent,
                poolSize,
                poolWait,
                connectionScope,
                keepAlive,
                tls,
            )

        override fun toString(): String = "SpecValues(${sentinelGroup ?: host})"
    }

    public companion object {
        /** How long connecting to a data node may take unless a spec says otherwise: 5 s. */
        @JvmField
        public val DEFAULT_CONNECT_TIMEOUT: Duration = Duration.ofSeconds(5)

        /** How long a command may wait for its reply unless a spec says otherwise: 15 s (never Lettuce's 60 s). */
        @JvmField
        public val DEFAULT_COMMAND_TIMEOUT: Duration = Duration.ofSeconds(15)

        /** Dedicated connections per node and credentials unless a spec says otherwise: 8. */
        public const val DEFAULT_POOL_SIZE: Int = 8

        /** How long a block waits for a dedicated connection unless a spec says otherwise: 2 s. */
        @JvmField
        public val DEFAULT_POOL_WAIT: Duration = Duration.ofSeconds(2)

        /** A builder for a spec resolved through [sentinelGroup]'s sentinels. */
        @JvmStatic
        public fun sentinel(
            sentinelGroup: String,
            masterName: String,
        ): Builder = Builder(SpecValues(sentinelGroup = sentinelGroup, masterName = masterName))

        /** A builder for a spec that connects to [host]:[port] directly, bypassing Sentinel. */
        @JvmStatic
        public fun direct(
            host: String,
            port: Int,
        ): Builder = Builder(SpecValues(host = host, port = port))

        private fun invalid(message: String): Nothing = throw InvalidSpecException(message)

        private fun targetOf(
            sentinelGroup: String?,
            masterName: String?,
            host: String?,
            port: Int?,
        ): SpecTarget {
            val viaSentinel = sentinelGroup != null || masterName != null
            val direct = host != null || port != null
            return when {
                viaSentinel && direct -> {
                    invalid("a spec names either a sentinel group and master name or a host and port, not both")
                }

                viaSentinel -> {
                    if (sentinelGroup.isNullOrBlank()) invalid("sentinel group is empty (master name '$masterName')")
                    if (masterName.isNullOrBlank()) invalid("master name is blank (sentinel group '$sentinelGroup')")
                    SpecTarget.Sentinel(sentinelGroup, masterName)
                }

                direct -> {
                    SpecTarget.Direct(
                        Address(
                            host ?: invalid("host is missing (port $port)"),
                            port ?: invalid("port of host '$host' is missing"),
                        ),
                    )
                }

                else -> {
                    invalid("a spec needs a sentinel group and master name, or a host and port")
                }
            }
        }

        private fun positive(
            name: String,
            value: Duration,
        ) {
            if (value.isNegative || value.isZero) invalid("$name is $value, must be > 0")
        }
    }
}
