package picket.core

import java.time.Duration

/**
 * Builds a [SentinelGroup] setting by setting, for Java callers (Kotlin callers use the constructor's named
 * arguments). Every setting starts at the constructor's default; [build] validates exactly as the constructor does.
 * Get one from [SentinelGroup.builder].
 *
 * ```java
 * SentinelGroup group = SentinelGroup.builder()
 *         .sentinel("10.0.0.1", 26379)
 *         .sentinel("10.0.0.2:26379")
 *         .credentials("sentinel-user", "sentinel-secret")
 *         .connectTimeout(Duration.ofMillis(500))
 *         .build();
 * ```
 *
 * Not thread-safe: build on one thread, then share the [SentinelGroup], which is immutable.
 */
@Suppress("TooManyFunctions") // one setter per constructor parameter of SentinelGroup
public class SentinelGroupBuilder internal constructor() {
    private val sentinels = mutableListOf<Address>()
    private var username: String? = null
    private var password: String? = null
    private var connectTimeout: Duration = SentinelGroup.DEFAULT_CONNECT_TIMEOUT
    private var commandTimeout: Duration = SentinelGroup.DEFAULT_COMMAND_TIMEOUT
    private var subscribeToAll: Boolean = true
    private var pingInterval: Duration = SentinelGroup.DEFAULT_PING_INTERVAL
    private var revalidateEvery: Duration? = null
    private var resolutionInterval: Duration = SentinelGroup.DEFAULT_RESOLUTION_INTERVAL
    private var parkWrites: Boolean = true
    private var parkingTimeout: Duration = SentinelGroup.DEFAULT_PARKING_TIMEOUT
    private var lossDetection: Boolean = true
    private var addressMapper: AddressMapper = AddressMapper.IDENTITY
    private var keepAlive: KeepAlive? = KeepAlive.DEFAULT
    private var tls: Tls? = null

    /**
     * Adds the sentinel at [host]:[port].
     *
     * @throws InvalidSpecException if [host] is blank or [port] is outside 1..65535.
     */
    public fun sentinel(
        host: String,
        port: Int,
    ): SentinelGroupBuilder = apply { sentinels += Address(host, port) }

    /**
     * Adds the sentinel at [address], written `host:port` (or `[ipv6]:port`).
     *
     * @throws InvalidSpecException if [address] is not `host:port` with a valid port.
     */
    public fun sentinel(address: String): SentinelGroupBuilder = apply { sentinels += Address.parse(address) }

    /** Adds [addresses] to the sentinels, in order. */
    public fun sentinels(addresses: List<Address>): SentinelGroupBuilder = apply { sentinels += addresses }

    /** Sets the sentinels' ACL user and password ([SentinelGroup.username], [SentinelGroup.password]). */
    public fun credentials(
        username: String?,
        password: String?,
    ): SentinelGroupBuilder =
        apply {
            this.username = username
            this.password = password
        }

    /** Sets the sentinels' ACL user ([SentinelGroup.username]); null for `default`. */
    public fun username(username: String?): SentinelGroupBuilder = apply { this.username = username }

    /** Sets the sentinels' password ([SentinelGroup.password]); null for none. */
    public fun password(password: String?): SentinelGroupBuilder = apply { this.password = password }

    /** Sets [SentinelGroup.connectTimeout]. */
    public fun connectTimeout(timeout: Duration): SentinelGroupBuilder = apply { connectTimeout = timeout }

    /** Sets [SentinelGroup.commandTimeout]. */
    public fun commandTimeout(timeout: Duration): SentinelGroupBuilder = apply { commandTimeout = timeout }

    /** Sets [SentinelGroup.subscribeToAll]; false is economy mode (one subscription). */
    public fun subscribeToAll(all: Boolean): SentinelGroupBuilder = apply { subscribeToAll = all }

    /** Sets [SentinelGroup.pingInterval]. */
    public fun pingInterval(interval: Duration): SentinelGroupBuilder = apply { pingInterval = interval }

    /** Sets [SentinelGroup.revalidateEvery]; null (the default) for no periodic ROLE check. */
    public fun revalidateEvery(interval: Duration?): SentinelGroupBuilder = apply { revalidateEvery = interval }

    /** Sets [SentinelGroup.resolutionInterval]. */
    public fun resolutionInterval(interval: Duration): SentinelGroupBuilder = apply { resolutionInterval = interval }

    /** Sets [SentinelGroup.parkWrites]. */
    public fun parkWrites(enabled: Boolean): SentinelGroupBuilder = apply { parkWrites = enabled }

    /** Sets [SentinelGroup.parkingTimeout]. */
    public fun parkingTimeout(timeout: Duration): SentinelGroupBuilder = apply { parkingTimeout = timeout }

    /** Sets [SentinelGroup.lossDetection]. */
    public fun lossDetection(enabled: Boolean): SentinelGroupBuilder = apply { lossDetection = enabled }

    /** Sets [SentinelGroup.addressMapper]. */
    public fun addressMapper(mapper: AddressMapper): SentinelGroupBuilder = apply { addressMapper = mapper }

    /** Sets [SentinelGroup.keepAlive]; null turns TCP keepalive off. */
    public fun keepAlive(keepAlive: KeepAlive?): SentinelGroupBuilder = apply { this.keepAlive = keepAlive }

    /** Sets [SentinelGroup.tls]; null for plain TCP. */
    public fun tls(tls: Tls?): SentinelGroupBuilder = apply { this.tls = tls }

    /**
     * The group, validated by [SentinelGroup]'s constructor.
     *
     * @throws InvalidSpecException as the constructor does: no sentinel, a duplicate one, a blank username, a
     *   duration that is not positive.
     */
    public fun build(): SentinelGroup =
        SentinelGroup(
            sentinels.toList(),
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
    override fun toString(): String = "SentinelGroupBuilder(sentinels=$sentinels, username=$username)"
}
