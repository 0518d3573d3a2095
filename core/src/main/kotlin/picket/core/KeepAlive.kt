package picket.core

import java.time.Duration

/**
 * TCP keepalive of a connection: the first probe after [idle] without traffic, then one every [interval], and the
 * connection is dropped after [count] unanswered probes. A peer that vanished without closing the socket (a
 * powered-off host, a NAT that forgot the flow) is then noticed in `idle + interval × count` even when the
 * connection is idle. The operating system counts in whole seconds.
 *
 * @throws InvalidSpecException if a duration is under one second or [count] is below 1.
 */
public data class KeepAlive(
    public val idle: Duration,
    public val interval: Duration,
    public val count: Int,
) {
    init {
        if (idle < Duration.ofSeconds(1)) throw InvalidSpecException("keepalive idle is $idle, must be >= 1 s")
        if (interval < Duration.ofSeconds(1)) {
            throw InvalidSpecException("keepalive interval is $interval, must be >= 1 s")
        }
        if (count < 1) throw InvalidSpecException("keepalive count is $count, must be >= 1")
    }

    public companion object {
        /** TwiceRedis's: idle 1 s, interval 3 s, 5 probes — a silent peer is dropped within 16 s. */
        @JvmField
        public val DEFAULT: KeepAlive = KeepAlive(Duration.ofSeconds(1), Duration.ofSeconds(3), 5)
    }
}
