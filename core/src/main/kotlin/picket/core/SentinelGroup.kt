package picket.core

import java.time.Duration

/**
 * A named set of sentinels that monitor one or more master names, with their own credentials and timeouts.
 * Declared once with [Picket.setSentinelGroups]; specs refer to it by name.
 *
 * ```kotlin
 * SentinelGroup(listOf(Address("10.0.0.1", 26379), Address("10.0.0.2", 26379)), password = "sentinel-secret")
 * ```
 *
 * @property sentinels the configured sentinels. Sentinels discovered later with `SENTINEL sentinels` are added with
 *   the same credentials and timeouts; the configured ones stay as a last resort.
 * @property username the sentinels' ACL user, or null.
 * @property password the sentinels' password, or null. Never printed.
 * @property connectTimeout how long connecting to one sentinel may take before the next is tried.
 * @property commandTimeout how long one sentinel may take to answer.
 * @property subscribeToAll subscribe to the events of every sentinel (the default: the sentinel that leads a
 *   failover publishes its failover states only to its own subscribers, and publishes `+switch-master` about a
 *   second after the others); false subscribes to one sentinel only (economy mode).
 * @property pingInterval how often each event subscription is PINGed; a subscription that does not answer within
 *   [commandTimeout] is replaced, so a silently dropped or paused sentinel is detected within
 *   `pingInterval + commandTimeout`.
 * @property revalidateEvery if set, every cached master of the group is checked with ROLE this often, as
 *   [Picket.removeInvalidResolvedMasterSpecs] does on demand.
 * @property parkWrites park new master blocks during a failover: from the leading sentinel's `+selected-slave` until
 *   the switch, the failover's abort or [parkingTimeout] (see [picket.core.PicketEvent.FailoverStarted]). Only the
 *   leader publishes that event, so parking needs [subscribeToAll]; in economy mode it never happens.
 * @property parkingTimeout how long a failover may park blocks, at most: a parking not ended by the switch or an
 *   abort within it ends, and its blocks fail with [picket.core.FailoverInProgressException] (they did not run).
 *   Parking is not charged to a spec's command timeout: a parked block waits up to this long whatever its command
 *   timeout, and its commands then get their full timeout.
 * @property lossDetection after blocks succeed on a master, read its replication offset (INFO replication, on the
 *   same connection, off the callers' path, at most every 10 ms) and after a switch emit
 *   [picket.core.PicketEvent.DataLossSuspected] if acknowledged writes cannot be on the new master.
 * @property resolutionInterval the shortest time between two rounds of questions to the sentinels about one master
 *   name. While a master is unreachable every failed block would otherwise start a round of its own (a write loop
 *   at one write per millisecond started over a thousand a second, each a new sentinel connection); callers that
 *   come sooner wait for the next round and share it. It is a pace, not a negative cache: every round asks again.
 * @property addressMapper turns every address Sentinel announces (masters, replicas, discovered sentinels) and the
 *   configured sentinels into the address to connect to (NAT, containers); configure sentinels by the addresses
 *   they announce, so that discovered ones are recognised as the same.
 * @property keepAlive TCP keepalive of sentinel connections (the subscriptions are long-lived), or null for none.
 * @property tls TLS to the sentinels, with trust material of its own (data nodes take theirs from
 *   [picket.core.ConnSpec.tls]), or null for plain TCP.
 * @throws InvalidSpecException if [sentinels] is empty or a duration is not positive.
 */
public class SentinelGroup
    // A settings class: each parameter is a named, defaulted setting (Java uses the copies: economy(), parking(), …).
    @Suppress("LongParameterList")
    @JvmOverloads
    constructor(
        public val sentinels: List<Address>,
        public val username: String? = null,
        public val password: String? = null,
        public val connectTimeout: Duration = DEFAULT_CONNECT_TIMEOUT,
        public val commandTimeout: Duration = DEFAULT_COMMAND_TIMEOUT,
        public val subscribeToAll: Boolean = true,
        public val pingInterval: Duration = DEFAULT_PING_INTERVAL,
        public val revalidateEvery: Duration? = null,
        public val resolutionInterval: Duration = DEFAULT_RESOLUTION_INTERVAL,
        public val parkWrites: Boolean = true,
        public val parkingTimeout: Duration = DEFAULT_PARKING_TIMEOUT,
        public val lossDetection: Boolean = true,
        public val addressMapper: AddressMapper = AddressMapper.IDENTITY,
        public val keepAlive: KeepAlive? = KeepAlive.DEFAULT,
        public val tls: Tls? = null,
    ) {
        init {
            if (sentinels.isEmpty()) throw InvalidSpecException("a sentinel group needs at least one sentinel")
            if (sentinels.toSet().size !=
                sentinels.size
            ) {
                throw InvalidSpecException("duplicate sentinels in $sentinels")
            }
            if (username != null && username.isBlank()) throw InvalidSpecException("sentinel username is blank")
            positive("connectTimeout", connectTimeout)
            positive("commandTimeout", commandTimeout)
            positive("pingInterval", pingInterval)
            revalidateEvery?.let { positive("revalidateEvery", it) }
            positive("parkingTimeout", parkingTimeout)
            if (resolutionInterval.isNegative) {
                throw InvalidSpecException("sentinel group resolutionInterval is $resolutionInterval, must be >= 0")
            }
        }

        /** This group subscribing to one sentinel only (economy mode). */
        public fun economy(): SentinelGroup = with(subscribeToAll = false)

        /** This group with loss detection on or off. */
        public fun lossDetection(enabled: Boolean): SentinelGroup = with(lossDetection = enabled)

        /** This group with write parking on or off and the given [timeout]. */
        @JvmOverloads
        public fun parking(
            enabled: Boolean,
            timeout: Duration = parkingTimeout,
        ): SentinelGroup = with(parkWrites = enabled, parkingTimeout = timeout)

        /** This group with TCP [keepAlive] on its sentinel connections (null: none). */
        public fun keepAlive(keepAlive: KeepAlive?): SentinelGroup = with(keepAlive = keepAlive)

        /** This group connecting to its sentinels over [tls] (null: plain TCP). */
        public fun tls(tls: Tls?): SentinelGroup = with(tls = tls)

        /** This group connecting to the addresses [mapper] gives for the announced ones. */
        public fun mapAddresses(mapper: AddressMapper): SentinelGroup = with(addressMapper = mapper)

        /** A copy with the given settings changed (validated again by the constructor). */
        private fun with(
            subscribeToAll: Boolean = this.subscribeToAll,
            parkWrites: Boolean = this.parkWrites,
            parkingTimeout: Duration = this.parkingTimeout,
            lossDetection: Boolean = this.lossDetection,
            addressMapper: AddressMapper = this.addressMapper,
            keepAlive: KeepAlive? = this.keepAlive,
            tls: Tls? = this.tls,
        ): SentinelGroup =
            SentinelGroup(
                sentinels,
                username,
                password,
                connectTimeout,
                commandTimeout,
                subscribeToAll,
                pingInterval,
                revalidateEvery,
                resolutionInterval,
                parkWrites,
                parkingTimeout,
                lossDetection,
                addressMapper,
                keepAlive,
                tls,
            )

        // The password is never shown.
        override fun toString(): String =
            "SentinelGroup(sentinels=$sentinels, username=$username, password=${password?.let { "***" }}, " +
                "connectTimeout=$connectTimeout, commandTimeout=$commandTimeout, subscribeToAll=$subscribeToAll, " +
                "pingInterval=$pingInterval, revalidateEvery=$revalidateEvery, " +
                "resolutionInterval=$resolutionInterval, parkWrites=$parkWrites, parkingTimeout=$parkingTimeout, " +
                "lossDetection=$lossDetection, addressMapper=$addressMapper, keepAlive=$keepAlive, tls=$tls)"

        public companion object {
            /** 1 s: a sentinel answers from memory; a slow one should not delay trying the next. */
            @JvmField
            public val DEFAULT_CONNECT_TIMEOUT: Duration = Duration.ofSeconds(1)

            /** 2 s. */
            @JvmField
            public val DEFAULT_COMMAND_TIMEOUT: Duration = Duration.ofSeconds(2)

            /** 1 s. */
            @JvmField
            public val DEFAULT_PING_INTERVAL: Duration = Duration.ofSeconds(1)

            /** 100 ms: at most ten rounds a second per master name while it is unreachable. */
            @JvmField
            public val DEFAULT_RESOLUTION_INTERVAL: Duration = Duration.ofMillis(100)

            /**
             * 5 s: a manual failover is confirmed about 1 s after the leader selects the replica (its
             * `+promoted-slave`, or the other sentinels' `+switch-master`); five times that leaves room for a slow one.
             */
            @JvmField
            public val DEFAULT_PARKING_TIMEOUT: Duration = Duration.ofSeconds(5)

            /** A builder for Java callers, every setting at its default ([SentinelGroupBuilder]). */
            @JvmStatic
            public fun builder(): SentinelGroupBuilder = SentinelGroupBuilder()

            /** A group of the sentinels at [addresses] (`host:port` each), with every other setting at its default. */
            @JvmStatic
            public fun of(vararg addresses: String): SentinelGroup = SentinelGroup(addresses.map { Address.parse(it) })

            private fun positive(
                name: String,
                value: Duration,
            ) {
                if (value.isNegative ||
                    value.isZero
                ) {
                    throw InvalidSpecException("sentinel group $name is $value, must be > 0")
                }
            }
        }
    }
