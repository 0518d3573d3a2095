package picket.testkit.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import java.io.IOException
import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import kotlin.io.path.name

private val log = KotlinLogging.logger {}

/**
 * Every redis-server process this JVM started, with a pid file each in [directory], so that none survives:
 * a shutdown hook kills what is still running when the JVM exits, and [reapOrphans] kills what a crashed
 * earlier JVM left behind (its owner is gone, or is another process that took over its pid).
 */
internal object ProcessRegistry {
    private const val KILL_WAIT_SECONDS = 5L

    val directory: Path = Path.of(System.getProperty("java.io.tmpdir"), "picket-testkit", "pids")
    private val live = ConcurrentHashMap<Long, Process>()
    private val self = ProcessHandle.current()
    private val selfStart =
        self
            .info()
            .startInstant()
            .map { it.toEpochMilli() }
            .orElse(0L)

    init {
        Runtime.getRuntime().addShutdownHook(Thread({ killAll() }, "picket-testkit-reaper"))
        reapOrphans()
    }

    /** Records a started process; the first call in a JVM also reaps orphans. */
    fun register(process: Process) {
        live[process.pid()] = process
        Files.createDirectories(directory)
        // Written aside and moved into place: another JVM's reapOrphans must never read a half-written file, which
        // names no live owner and would get this JVM's node killed.
        val file = pidFile(process.pid())
        val partial = Files.createTempFile(directory, ".${process.pid()}-", ".tmp")
        Files.writeString(partial, "${self.pid()} $selfStart ${process.info().command().orElse("")}\n")
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
    }

    /** Forgets an exited process. */
    fun unregister(process: Process) {
        live.remove(process.pid())
        Files.deleteIfExists(pidFile(process.pid()))
    }

    /** Kills the processes of pid files whose owning JVM is no longer running. */
    fun reapOrphans() {
        if (!Files.isDirectory(directory)) return
        Files.list(directory).use { it.toList() }.forEach { file ->
            try {
                reap(file)
            } catch (_: NoSuchFileException) {
                // Gone meanwhile: its owner unregistered it, or another JVM reaped it.
            } catch (e: IOException) {
                log.warn(e) { "could not read pid file $file" }
            }
        }
    }

    private fun reap(file: Path) {
        // Pid files only: a ".<pid>-….tmp" being written by register is not one yet.
        val pid = file.name.toLongOrNull() ?: return
        val fields = Files.readString(file).trim().split(" ", limit = 3)
        val ownerPid = fields.getOrNull(0)?.toLongOrNull()
        val ownerStart = fields.getOrNull(1)?.toLongOrNull()
        val ownerAlive =
            ownerPid != null &&
                ProcessHandle
                    .of(ownerPid)
                    .map { owner ->
                        owner.isAlive && owner
                            .info()
                            .startInstant()
                            .map { it.toEpochMilli() }
                            .orElse(0L) == ownerStart
                    }.orElse(false)
        if (ownerAlive) return
        ProcessHandle.of(pid).ifPresent { orphan ->
            val command = orphan.info().command().orElse("")
            // The command as recorded, or any redis binary: Debian's redis-server is a symlink to redis-check-rdb,
            // which is the command the process reports. Anything else under that pid is a reused pid: left alone.
            val recorded = fields.getOrNull(2)
            val isRedis = command == recorded || command.substringAfterLast('/').startsWith("redis-")
            if (orphan.isAlive && isRedis) {
                log.warn { "killing redis-server pid $pid left behind by JVM $ownerPid" }
                orphan.destroyForcibly()
                orphan.onExit().get(KILL_WAIT_SECONDS, TimeUnit.SECONDS)
            }
        }
        Files.deleteIfExists(file)
    }

    private fun killAll() {
        live.values.forEach { process ->
            process.destroyForcibly()
            runCatching { process.waitFor(KILL_WAIT_SECONDS, TimeUnit.SECONDS) }
            runCatching { Files.deleteIfExists(pidFile(process.pid())) }
        }
    }

    private fun pidFile(pid: Long): Path = directory.resolve(pid.toString())
}
