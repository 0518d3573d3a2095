package picket.monitor

import picket.core.InvalidSpecException
import picket.core.Tls
import java.time.Duration

/**
 * How a [Monitor] polls. Every default is the seed's where it has one (intervals 0.5–3 s, start at 0.5 s).
 *
 * ```kotlin
 * MonitorOptions(minInterval = Duration.ofSeconds(1), maxInterval = Duration.ofSeconds(10), password = "secret")
 * ```
 *
 * @property minInterval the shortest interval between two polls of one node (a busy node).
 * @property maxInterval the longest (an idle node).
 * @property initialInterval a new node's first interval.
 * @property policy moves each node's interval between the bounds after each poll.
 * @property maxConcurrentPolls polls in flight at once, over all nodes; each node has one coroutine and one
 *   connection, so a slow node holds one permit at most, for [commandTimeout] at most.
 * @property connectTimeout connecting to one node.
 * @property commandTimeout one `INFO` on one node: a paused node fails its poll after this, and no other waits.
 * @property failureGrace consecutive failures of a node logged quietly (debug) before they are logged loudly (a
 *   warning when the node is declared down, then one every [failureGrace] failures).
 * @property coolOff the wait before the first retry of a failed node; it doubles with each failure...
 * @property maxBackoff ...up to this.
 * @property username the data nodes' ACL user, or null. Sentinel nodes found through a group use the group's.
 * @property password the data nodes' password, or null. Never printed.
 * @property tls TLS to the data nodes, or null (sentinels found through a group use the group's).
 * @property clientName the name of the monitor's connections in `CLIENT LIST`.
 * @throws InvalidSpecException if an interval or timeout is not positive, [minInterval] is above [maxInterval],
 *   [initialInterval] is outside them, [maxConcurrentPolls] or [failureGrace] is below 1.
 */
public class MonitorOptions
    // A settings class: each parameter is a named, defaulted setting (Java uses the Builder).
    @Suppress("LongParameterList")
    @JvmOverloads
    constructor(
        public val minInterval: Duration = DEFAULT_MIN_INTERVAL,
        public val maxInterval: Duration = DEFAULT_MAX_INTERVAL,
        public val initialInterval: Duration = minInterval,
        public val policy: PollingPolicy = ActivityPolicy(),
        public val maxConcurrentPolls: Int = DEFAULT_MAX_CONCURRENT_POLLS,
        public val connectTimeout: Duration = Duration.ofSeconds(1),
        public val commandTimeout: Duration = Duration.ofSeconds(2),
        public val failureGrace: Int = DEFAULT_FAILURE_GRACE,
        public val coolOff: Duration = Duration.ofMillis(500),
        public val maxBackoff: Duration = Duration.ofSeconds(5),
        public val username: String? = null,
        public val password: String? = null,
        public val tls: Tls? = null,
        public val clientName: String = "picket-monitor",
    ) {
        init {
            positive("minInterval", minInterval)
            positive("maxInterval", maxInterval)
            positive("initialInterval", initialInterval)
            positive("connectTimeout", connectTimeout)
            positive("commandTimeout", commandTimeout)
            positive("coolOff", coolOff)
            positive("maxBackoff", maxBackoff)
            if (minInterval > maxInterval) {
                throw InvalidSpecException("minInterval ($minInterval) is above maxInterval ($maxInterval)")
            }
            if (initialInterval !in minInterval..maxInterval) {
                throw InvalidSpecException(
                    "initialInterval ($initialInterval) is outside minInterval..maxInterval " +
                        "($minInterval..$maxInterval)",
                )
            }
            if (maxConcurrentPolls <
                1
            ) {
                throw InvalidSpecException("maxConcurrentPolls is $maxConcurrentPolls, must be >= 1")
            }
            if (failureGrace < 1) throw InvalidSpecException("failureGrace is $failureGrace, must be >= 1")
            if (clientName.isBlank() || clientName.any { it.isWhitespace() }) {
                throw InvalidSpecException("clientName '$clientName' is blank or has white space")
            }
        }

        /** A builder holding these options. */
        public fun toBuilder(): Builder = Builder(this)

        // The password is never shown.
        override fun toString(): String =
            "MonitorOptions(interval=$minInterval..$maxInterval, initial=$initialInterval, policy=$policy, " +
                "maxConcurrentPolls=$maxConcurrentPolls, connectTimeout=$connectTimeout, " +
                "commandTimeout=$commandTimeout, failureGrace=$failureGrace, coolOff=$coolOff, " +
                "maxBackoff=$maxBackoff, " +
                "username=$username, password=${password?.let { "***" }}, tls=$tls, clientName=$clientName)"

        /** Builds [MonitorOptions] for Java; [build] validates. */
        public class Builder internal constructor(
            private var options: MonitorOptions,
        ) {
            /** A builder with every default. */
            public constructor() : this(MonitorOptions())

            private var min = options.minInterval
            private var max = options.maxInterval
            private var initial: Duration? = options.initialInterval

            /** Sets the interval bounds (and the initial interval to [min], unless set after). */
            public fun intervals(
                min: Duration,
                max: Duration,
            ): Builder =
                apply {
                    this.min = min
                    this.max = max
                    initial = null
                }

            /** Sets [MonitorOptions.initialInterval]. */
            public fun initialInterval(interval: Duration): Builder = apply { initial = interval }

            /** Sets [MonitorOptions.policy]. */
            public fun policy(policy: PollingPolicy): Builder = apply { options = copy(policy = policy) }

            /** Sets [MonitorOptions.maxConcurrentPolls]. */
            public fun maxConcurrentPolls(count: Int): Builder = apply { options = copy(maxConcurrentPolls = count) }

            /** Sets both timeouts. */
            public fun timeouts(
                connect: Duration,
                command: Duration,
            ): Builder = apply { options = copy(connectTimeout = connect, commandTimeout = command) }

            /** Sets [MonitorOptions.failureGrace]. */
            public fun failureGrace(count: Int): Builder = apply { options = copy(failureGrace = count) }

            /** Sets the retry cool-off and its cap. */
            public fun backoff(
                coolOff: Duration,
                max: Duration,
            ): Builder = apply { options = copy(coolOff = coolOff, maxBackoff = max) }

            /** Sets the data nodes' credentials. */
            public fun credentials(
                username: String?,
                password: String?,
            ): Builder = apply { options = copy(username = username, password = password) }

            /** Sets [MonitorOptions.tls]. */
            public fun tls(tls: Tls?): Builder = apply { options = copy(tls = tls) }

            /**
             * The options.
             *
             * @throws InvalidSpecException naming the first value that is out of range.
             */
            public fun build(): MonitorOptions =
                copy(
                    minInterval = min,
                    maxInterval = max,
                    initialInterval =
                        initial ?: min,
                )

            @Suppress("LongParameterList")
            private fun copy(
                minInterval: Duration = options.minInterval,
                maxInterval: Duration = options.maxInterval,
                initialInterval: Duration = options.initialInterval,
                policy: PollingPolicy = options.policy,
                maxConcurrentPolls: Int = options.maxConcurrentPolls,
                connectTimeout: Duration = options.connectTimeout,
                commandTimeout: Duration = options.commandTimeout,
                failureGrace: Int = options.failureGrace,
                coolOff: Duration = options.coolOff,
                maxBackoff: Duration = options.maxBackoff,
                username: String? = options.username,
                password: String? = options.password,
                tls: Tls? = options.tls,
            ): MonitorOptions =
                MonitorOptions(
                    minInterval,
                    maxInterval,
                    initialInterval,
                    policy,
                    maxConcurrentPolls,
                    connectTimeout,
                    commandTimeout,
                    failureGrace,
                    coolOff,
                    maxBackoff,
                    username,
                    password,
                    tls,
                    options.clientName,
                )
        }

        public companion object {
            /** 0.5 s, the seed's. */
            @JvmField
            public val DEFAULT_MIN_INTERVAL: Duration = Duration.ofMillis(500)

            /** 3 s, the seed's. */
            @JvmField
            public val DEFAULT_MAX_INTERVAL: Duration = Duration.ofSeconds(3)

            /** 64 polls in flight at once. */
            public const val DEFAULT_MAX_CONCURRENT_POLLS: Int = 64

            /** 3 consecutive failures before a node is declared down and logged loudly. */
            public const val DEFAULT_FAILURE_GRACE: Int = 3

            /** A builder with every default. */
            @JvmStatic
            public fun builder(): Builder = Builder()

            private fun positive(
                name: String,
                value: Duration,
            ) {
                if (value.isNegative || value.isZero) throw InvalidSpecException("monitor $name is $value, must be > 0")
            }
        }
    }
