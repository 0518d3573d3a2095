package picket.testkit

import picket.testkit.internal.NodeProcess
import java.nio.file.Files
import java.nio.file.Path

/**
 * One `redis-server` process of a [Topology]: a data node or a sentinel, on a fixed loopback port that survives
 * restarts. Faults are applied through the topology ([Topology.kill], [Topology.pause], …).
 *
 * @property name a stable name: `<masterName>-<index>` for data nodes (index 0 is the initial master),
 *   `sentinel-<index>` for sentinels.
 * @property kind data node or sentinel.
 * @property masterName the master name whose group this data node belongs to; null for sentinels.
 * @property host the address it listens on (`127.0.0.1`).
 * @property directory its working folder: configuration file and `redis.log`.
 */
public class RedisNode internal constructor(
    public val name: String,
    public val kind: NodeKind,
    public val masterName: String?,
    public val host: String,
    port: Int,
    public val directory: Path,
) {
    /** The port it listens on; fixed once the topology has started. */
    public var port: Int = port
        internal set

    @get:JvmSynthetic
    internal val process = NodeProcess(this)

    /** `host:port`, as Sentinel reports addresses. */
    public val address: String get() = "$host:$port"

    /** The operating-system process id, or null when the node is not running. */
    public val pid: Long? get() = process.pid()

    /** True while its process is alive (paused or not). */
    public val isRunning: Boolean get() = process.isAlive()

    /** True while it is paused with SIGSTOP ([Topology.pause]). */
    public val isPaused: Boolean get() = process.isPaused()

    /** Its configuration file; sentinels rewrite theirs as they learn the topology. */
    public val configFile: Path get() =
        directory.resolve(
            if (kind ==
                NodeKind.SENTINEL
            ) {
                "sentinel.conf"
            } else {
                "redis.conf"
            },
        )

    /** Its log (standard output and error of every run). */
    public val logFile: Path get() = directory.resolve("redis.log")

    /** The last [lines] lines of [logFile], for diagnosing a failure. */
    public fun logTail(lines: Int = 20): List<String> =
        if (Files.exists(logFile)) Files.readAllLines(logFile).takeLast(lines) else emptyList()

    override fun toString(): String = "$name($address)"
}
