package picket.testkit.internal

import picket.testkit.NodeKind
import picket.testkit.RedisBinary
import picket.testkit.RedisNode
import picket.testkit.TopologyException
import java.util.concurrent.TimeUnit

/** The operating-system process behind a [RedisNode], across its restarts. */
internal class NodeProcess(
    private val node: RedisNode,
) {
    private var process: Process? = null
    private var paused = false

    @Synchronized
    fun pid(): Long? = process?.takeIf { it.isAlive }?.pid()

    @Synchronized
    fun isAlive(): Boolean = process?.isAlive == true

    @Synchronized
    fun isPaused(): Boolean = paused && isAlive()

    /** Starts the node from its configuration file; it is not yet known to accept connections. */
    @Synchronized
    fun launch(binary: RedisBinary) {
        check(!isAlive()) { "$node is already running" }
        val command = mutableListOf(binary.path.toString(), node.configFile.toString())
        if (node.kind == NodeKind.SENTINEL) command += "--sentinel"
        val started =
            ProcessBuilder(command)
                .directory(node.directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(node.logFile.toFile()))
                .start()
        ProcessRegistry.register(started)
        started.onExit().thenRun { ProcessRegistry.unregister(started) }
        process = started
        paused = false
    }

    /** Sends SIGKILL and waits until the process is gone. */
    @Synchronized
    fun kill() {
        val current = process ?: return
        current.destroyForcibly()
        awaitExit(current)
        paused = false
    }

    /** Sends SIGTERM (after SIGCONT if paused) and waits for a clean exit; SIGKILL if it takes too long. */
    @Synchronized
    fun stop() {
        val current = process?.takeIf { it.isAlive } ?: return
        if (paused) signal("CONT")
        current.destroy()
        if (!current.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) current.destroyForcibly()
        awaitExit(current)
        paused = false
    }

    @Synchronized
    fun pause() {
        requireAlive("pause")
        signal("STOP")
        paused = true
    }

    @Synchronized
    fun resume() {
        requireAlive("resume")
        signal("CONT")
        paused = false
    }

    private fun requireAlive(action: String) {
        if (!isAlive()) throw TopologyException("cannot $action $node: it is not running")
    }

    private fun signal(name: String) {
        val pid = process?.pid() ?: return
        val kill = ProcessBuilder("kill", "-$name", pid.toString()).redirectErrorStream(true).start()
        val output = kill.inputStream.bufferedReader().use { it.readText() }
        if (!kill.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw TopologyException("kill -$name $pid ($node) failed: ${output.trim()}")
        }
    }

    private fun awaitExit(process: Process) {
        if (!process.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw TopologyException("$node (pid ${process.pid()}) did not exit within $STOP_WAIT_SECONDS s")
        }
        ProcessRegistry.unregister(process)
    }

    private companion object {
        const val STOP_WAIT_SECONDS = 10L
    }
}
