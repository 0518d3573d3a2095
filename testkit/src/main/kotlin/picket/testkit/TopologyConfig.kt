package picket.testkit

import java.time.Duration

/**
 * What [Topology.start] starts: [masterNames] (one master each) with [replicasPerMaster] replicas each, and
 * [sentinels] sentinels that monitor every master, all on free loopback ports, without persistence.
 *
 * Kotlin callers use named arguments, Java callers the [Builder]:
 * ```kotlin
 * val config = TopologyConfig(masterNames = listOf("orders", "users"), replicasPerMaster = 1, dataPassword = "s3cret")
 * ```
 * ```java
 * TopologyConfig config = TopologyConfig.builder().replicasPerMaster(1).dataPassword("s3cret").build();
 * ```
 *
 * @property masterNames the master names the sentinels monitor, one master node each.
 * @property replicasPerMaster how many replicas each master has.
 * @property sentinels how many sentinels monitor every master.
 * @property quorum how many sentinels must agree that a master is down; at most [sentinels].
 * @property downAfter Sentinel's `down-after-milliseconds`. Below 2 s a freshly promoted master can be marked down
 *   again right after a failover on a busy machine.
 * @property failoverTimeout Sentinel's `failover-timeout`; also the least time between two failovers of one master.
 * @property dataPassword `requirepass` of every data node (and `masterauth`, `sentinel auth-pass`), or null.
 * @property sentinelPassword `requirepass` of every sentinel (and `sentinel sentinel-pass`), or null.
 * @property aclUser an ACL user created on every data node; replication and sentinels then authenticate as it.
 * @property binary the `redis-server` to run, or null for [RedisBinary.locate].
 * @property startTimeout how long [Topology.start] may take before it gives up and stops what it started.
 * @property appendOnly whether data nodes keep an append-only file (`appendonly yes`, `appendfsync everysec`), as
 *   `WAITAOF` needs on the master; off by default, like snapshots, so that nodes start and sync fast.
 * @property announceHostnames nodes are known by the host name `localhost` instead of `127.0.0.1`: replicas announce
 *   it (`replica-announce-ip`), sentinels resolve and announce host names (`resolve-hostnames`,
 *   `announce-hostnames`, `announce-ip`), so every address Sentinel gives is `localhost:port`; nodes listen on
 *   `127.0.0.1` and, where it exists, `::1`.
 * @property tls every node on TLS only, with certificates the test kit generates ([Topology.tls]); null for TCP.
 * @property sentinelInfoPeriod how often each sentinel sends `INFO` to the nodes it knows (`SENTINEL DEBUG
 *   info-period`, Redis 7.0 and later; older sentinels keep their default with a warning). Sentinel's own default is
 *   10 s: a manually demoted master is converted to a replica, and a restarted replica is seen as good, only at its
 *   next `INFO`, up to 10 s later. The kit's 1 s makes [Topology.awaitMaster] return about 9 s sooner after a
 *   failover; the failover itself (down-after, election, `+switch-master`) does not depend on it. Null keeps
 *   Sentinel's default, for measurements where how long a demoted master still accepts writes matters.
 */
public class TopologyConfig
// A settings class: each parameter is a named, defaulted setting (Java uses the Builder).
    @Suppress("LongParameterList")
    constructor(
        public val masterNames: List<String> = listOf(DEFAULT_MASTER_NAME),
        public val replicasPerMaster: Int = 2,
        public val sentinels: Int = 3,
        public val quorum: Int = 2,
        public val downAfter: Duration = Duration.ofSeconds(2),
        public val failoverTimeout: Duration = Duration.ofSeconds(10),
        public val dataPassword: String? = null,
        public val sentinelPassword: String? = null,
        public val aclUser: AclUser? = null,
        public val binary: RedisBinary? = null,
        public val startTimeout: Duration = Duration.ofSeconds(60),
        public val appendOnly: Boolean = false,
        public val tls: TopologyTls? = null,
        public val announceHostnames: Boolean = false,
        public val sentinelInfoPeriod: Duration? = Duration.ofSeconds(1),
    ) {
        init {
            require(masterNames.isNotEmpty()) { "masterNames is empty: a topology needs at least one master" }
            masterNames.forEach {
                require(it.matches(NAME)) { "master name '$it' must match ${NAME.pattern}" }
            }
            require(masterNames.toSet().size == masterNames.size) { "masterNames has duplicates: $masterNames" }
            require(replicasPerMaster >= 0) { "replicasPerMaster is $replicasPerMaster, must be >= 0" }
            require(sentinels >= 0) { "sentinels is $sentinels, must be >= 0" }
            require(sentinels == 0 || quorum in 1..sentinels) { "quorum is $quorum, must be in 1..$sentinels" }
            require(downAfter.toMillis() >= 1) { "downAfter is $downAfter, must be at least 1 ms" }
            require(failoverTimeout.toMillis() >= 1) { "failoverTimeout is $failoverTimeout, must be at least 1 ms" }
            require(sentinelInfoPeriod == null || sentinelInfoPeriod.toMillis() >= 1) {
                "sentinelInfoPeriod is $sentinelInfoPeriod, must be at least 1 ms (null: Sentinel's default)"
            }
            require(!startTimeout.isNegative && !startTimeout.isZero) { "startTimeout is $startTimeout, must be > 0" }
            require(dataPassword == null || isConfigSafe(dataPassword)) {
                "dataPassword must be non-empty, without white space or quotes (null for none)"
            }
            require(sentinelPassword == null || isConfigSafe(sentinelPassword)) {
                "sentinelPassword must be non-empty, without white space or quotes (null for none)"
            }
        }

        /** A builder holding this configuration's values. */
        public fun toBuilder(): Builder =
            Builder().also {
                it.masterNames = masterNames
                it.replicasPerMaster = replicasPerMaster
                it.sentinels = sentinels
                it.quorum = quorum
                it.downAfter = downAfter
                it.failoverTimeout = failoverTimeout
                it.dataPassword = dataPassword
                it.sentinelPassword = sentinelPassword
                it.aclUser = aclUser
                it.binary = binary
                it.startTimeout = startTimeout
                it.appendOnly = appendOnly
                it.tls = tls
                it.announceHostnames = announceHostnames
                it.sentinelInfoPeriod = sentinelInfoPeriod
            }

        // Passwords are left out on purpose.
        override fun toString(): String =
            "TopologyConfig(masterNames=$masterNames, replicasPerMaster=$replicasPerMaster, sentinels=$sentinels, " +
                "quorum=$quorum, downAfter=$downAfter, failoverTimeout=$failoverTimeout, " +
                "dataPassword=${dataPassword?.let { "***" }}, sentinelPassword=${sentinelPassword?.let { "***" }}, " +
                "aclUser=$aclUser, binary=$binary, appendOnly=$appendOnly, tls=$tls, " +
                "announceHostnames=$announceHostnames, sentinelInfoPeriod=$sentinelInfoPeriod)"

        /**
         * A mutable builder of [TopologyConfig], for Java and for [TopologyExtension]'s configuration block. Every
         * property starts at the [TopologyConfig] default; [build] validates.
         */
        public class Builder {
            /** See [TopologyConfig.masterNames]. */
            public var masterNames: List<String> = listOf(DEFAULT_MASTER_NAME)

            /** See [TopologyConfig.replicasPerMaster]. */
            public var replicasPerMaster: Int = 2

            /** See [TopologyConfig.sentinels]. */
            public var sentinels: Int = 3

            /** See [TopologyConfig.quorum]. */
            public var quorum: Int = 2

            /** See [TopologyConfig.downAfter]. */
            public var downAfter: Duration = Duration.ofSeconds(2)

            /** See [TopologyConfig.failoverTimeout]. */
            public var failoverTimeout: Duration = Duration.ofSeconds(10)

            /** See [TopologyConfig.dataPassword]. */
            public var dataPassword: String? = null

            /** See [TopologyConfig.sentinelPassword]. */
            public var sentinelPassword: String? = null

            /** See [TopologyConfig.aclUser]. */
            public var aclUser: AclUser? = null

            /** See [TopologyConfig.binary]. */
            public var binary: RedisBinary? = null

            /** See [TopologyConfig.startTimeout]. */
            public var startTimeout: Duration = Duration.ofSeconds(60)

            /** See [TopologyConfig.appendOnly]. */
            public var appendOnly: Boolean = false

            /** See [TopologyConfig.tls]. */
            public var tls: TopologyTls? = null

            /** See [TopologyConfig.announceHostnames]. */
            public var announceHostnames: Boolean = false

            /** [TopologyConfig.sentinelInfoPeriod]. */
            public var sentinelInfoPeriod: Duration? = Duration.ofSeconds(1)

            /** Sets [TopologyConfig.masterNames]. */
            public fun masterNames(vararg names: String): Builder = apply { masterNames = names.toList() }

            /** Sets [TopologyConfig.replicasPerMaster]. */
            public fun replicasPerMaster(count: Int): Builder = apply { replicasPerMaster = count }

            /** Sets [TopologyConfig.sentinels]. */
            public fun sentinels(count: Int): Builder = apply { sentinels = count }

            /** Sets [TopologyConfig.quorum]. */
            public fun quorum(count: Int): Builder = apply { quorum = count }

            /** Sets [TopologyConfig.downAfter]. */
            public fun downAfter(duration: Duration): Builder = apply { downAfter = duration }

            /** Sets [TopologyConfig.failoverTimeout]. */
            public fun failoverTimeout(duration: Duration): Builder = apply { failoverTimeout = duration }

            /** Sets [TopologyConfig.dataPassword]. */
            public fun dataPassword(password: String?): Builder = apply { dataPassword = password }

            /** Sets [TopologyConfig.sentinelPassword]. */
            public fun sentinelPassword(password: String?): Builder = apply { sentinelPassword = password }

            /** Sets [TopologyConfig.aclUser]. */
            public fun aclUser(user: AclUser?): Builder = apply { aclUser = user }

            /** Sets [TopologyConfig.binary]. */
            public fun binary(binary: RedisBinary?): Builder = apply { this.binary = binary }

            /** Sets [TopologyConfig.startTimeout]. */
            public fun startTimeout(duration: Duration): Builder = apply { startTimeout = duration }

            /** Sets [TopologyConfig.appendOnly]. */
            public fun appendOnly(enabled: Boolean): Builder = apply { appendOnly = enabled }

            /** Sets [TopologyConfig.tls]. */
            public fun tls(tls: TopologyTls?): Builder = apply { this.tls = tls }

            /** Sets [TopologyConfig.announceHostnames]. */
            public fun announceHostnames(enabled: Boolean): Builder = apply { announceHostnames = enabled }

            /** Sets [TopologyConfig.sentinelInfoPeriod] (null: Sentinel's default). */
            public fun sentinelInfoPeriod(period: Duration?): Builder = apply { sentinelInfoPeriod = period }

            /**
             * A validated [TopologyConfig].
             *
             * @throws IllegalArgumentException naming the first value that is out of range.
             */
            public fun build(): TopologyConfig =
                TopologyConfig(
                    masterNames,
                    replicasPerMaster,
                    sentinels,
                    quorum,
                    downAfter,
                    failoverTimeout,
                    dataPassword,
                    sentinelPassword,
                    aclUser,
                    binary,
                    startTimeout,
                    appendOnly,
                    tls,
                    announceHostnames,
                    sentinelInfoPeriod,
                )
        }

        public companion object {
            /** The master name of a topology whose [masterNames] were not given. */
            public const val DEFAULT_MASTER_NAME: String = "mymaster"

            private val NAME = Regex("[A-Za-z0-9._-]+")

            /** A [Builder] with every default. */
            @JvmStatic
            public fun builder(): Builder = Builder()
        }
    }

/**
 * An ACL user created on every data node with all permissions (`~* &* +@all`); replicas (`masteruser`) and
 * sentinels (`sentinel auth-user`) authenticate as this user. The `default` user keeps
 * [TopologyConfig.dataPassword], or no password.
 */
public class AclUser(
    public val username: String,
    public val password: String,
) {
    init {
        require(username.matches(Regex("[A-Za-z0-9._-]+"))) { "ACL username '$username' must match [A-Za-z0-9._-]+" }
        require(isConfigSafe(password)) {
            "the password of ACL user '$username' must be non-empty, without white space or quotes"
        }
    }

    override fun toString(): String = "AclUser(username=$username, password=***)"
}

/** Whether [value] can stand unquoted in a redis.conf line. */
private fun isConfigSafe(value: String): Boolean =
    value.isNotEmpty() && value.none { it.isWhitespace() || it == '"' || it == '\'' || it == '\\' }
