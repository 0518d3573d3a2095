package picket.testkit

import picket.testkit.internal.EmbeddedBinary
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * A `redis-server` executable that the test kit starts data nodes and sentinels with, where it was found and
 * which version it reports.
 *
 * ```kotlin
 * val binary = RedisBinary.locate()
 * println("${binary.source}: ${binary.path} (Redis ${binary.version})")
 * ```
 *
 * @property path the executable.
 * @property source how it was found.
 * @property version the version `redis-server --version` reports, such as `7.0.15`.
 */
public class RedisBinary private constructor(
    public val path: Path,
    public val source: Source,
    public val version: String,
) {
    /** How a [RedisBinary] was found, in the order [locate] tries them. */
    public enum class Source {
        /** Named by the environment variable [ENV_VAR]. */
        ENVIRONMENT,

        /** `redis-server` on the `PATH`. */
        PATH,

        /**
         * Extracted from an embedded-redis artifact: `com.github.codemonstur:embedded-redis` (Redis 6.2), or for
         * [atLeast] `cn.ponfee:embedded-redis` (Redis 7.4) where a module puts it on its test classpath.
         */
        EMBEDDED,

        /** Given explicitly with [of]. */
        EXPLICIT,
    }

    override fun toString(): String = "redis-server $version ($source: $path)"

    /**
     * Why this binary cannot run a TLS topology ([TopologyConfig.tls]), or null if it can: it was built with TLS
     * when, asked to listen with TLS and given no certificate, it complains about the certificate rather than about
     * TLS. Asked once, then remembered.
     */
    public val tlsUnsupportedReason: String? by lazy { probeTls() }

    private fun probeTls(): String? {
        val process =
            try {
                ProcessBuilder(path.toString(), "--port", "0", "--tls-port", "1", "--loglevel", "warning")
                    .redirectErrorStream(true)
                    .start()
            } catch (e: java.io.IOException) {
                return "cannot run '$path': ${e.message}"
            }
        val output = process.inputStream.bufferedReader().use { it.readText() }
        if (!process.waitFor(VERSION_TIMEOUT_SECONDS, TimeUnit.SECONDS)) process.destroyForcibly()
        return if ("tls-cert-file" in output) {
            null
        } else {
            "$this was built without TLS: ${output.lines().lastOrNull { it.isNotBlank() }.orEmpty().take(200)}"
        }
    }

    public companion object {
        /** The environment variable that names a `redis-server` executable to use before any other. */
        public const val ENV_VAR: String = "PICKET_REDIS_SERVER"

        private const val EXECUTABLE = "redis-server"
        private const val VERSION_TIMEOUT_SECONDS = 10L
        private val VERSION = Regex("""v=(\S+)""")

        /**
         * Finds `redis-server`: the file named by [ENV_VAR], else `redis-server` on the `PATH`, else the binary
         * shipped in `com.github.codemonstur:embedded-redis`, extracted once to a cache folder.
         *
         * @throws TopologyException if [ENV_VAR] names a file that is not executable, or if no binary is found
         *   and none is shipped for this operating system and architecture.
         */
        @JvmStatic
        public fun locate(): RedisBinary = locate(System.getenv(ENV_VAR), System.getenv("PATH"))

        /**
         * Finds `redis-server` as [locate] does, from the given value of [ENV_VAR] and of the `PATH` instead of the
         * process's own environment; with both null or empty only the embedded binary remains.
         */
        @JvmStatic
        public fun locate(
            envValue: String?,
            searchPath: String?,
        ): RedisBinary {
            if (!envValue.isNullOrBlank()) {
                val path = Path.of(envValue)
                if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                    throw TopologyException("$ENV_VAR names '$envValue', which is not an executable file")
                }
                return create(path, Source.ENVIRONMENT)
            }
            searchPath
                ?.split(File.pathSeparator)
                ?.filter { it.isNotBlank() }
                ?.map { Path.of(it, EXECUTABLE) }
                ?.firstOrNull { Files.isRegularFile(it) && Files.isExecutable(it) }
                ?.let { return create(it, Source.PATH) }
            return embedded()
        }

        /**
         * The `redis-server` 6.2 shipped in `com.github.codemonstur:embedded-redis`, extracted once to
         * `$XDG_CACHE_HOME/picket` (or `~/.cache/picket`) and reused by later runs.
         *
         * @throws TopologyException if the artifact has no binary for this operating system and architecture.
         */
        @JvmStatic
        public fun embedded(): RedisBinary = create(EmbeddedBinary.extract(), Source.EMBEDDED)

        /**
         * A `redis-server` of at least version [minimum] (such as `7.2`): the one [locate] finds if it is recent
         * enough, else the Redis 7.4 of `cn.ponfee:embedded-redis:1.6` if that artifact is on the classpath.
         *
         * @throws TopologyException if neither is recent enough or present.
         */
        @JvmStatic
        public fun atLeast(minimum: String): RedisBinary {
            val found = locate()
            if (compareVersions(found.version, minimum) >= 0) return found
            val artifact = EmbeddedBinary.REDIS_74
            if (!EmbeddedBinary.available(artifact)) {
                throw TopologyException(
                    "Redis $minimum or later is needed, $found is older: set $ENV_VAR or put " +
                        "${artifact.coordinates} on the test classpath",
                )
            }
            val embedded = create(EmbeddedBinary.extract(artifact), Source.EMBEDDED)
            if (compareVersions(embedded.version, minimum) < 0) {
                throw TopologyException("Redis $minimum or later is needed; $found and $embedded are older")
            }
            return embedded
        }

        /** Compares dotted versions numerically: `7.10.0` is after `7.2`. */
        @JvmStatic
        public fun compareVersions(
            a: String,
            b: String,
        ): Int {
            val left = a.split('.').map { it.toIntOrNull() ?: 0 }
            val right = b.split('.').map { it.toIntOrNull() ?: 0 }
            for (i in 0 until maxOf(left.size, right.size)) {
                val diff = left.getOrElse(i) { 0 } - right.getOrElse(i) { 0 }
                if (diff != 0) return diff
            }
            return 0
        }

        /**
         * The given executable.
         *
         * @throws TopologyException if [path] is not an executable file or does not run.
         */
        @JvmStatic
        public fun of(path: Path): RedisBinary {
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw TopologyException("'$path' is not an executable file")
            }
            return create(path, Source.EXPLICIT)
        }

        private fun create(
            path: Path,
            source: Source,
        ): RedisBinary = RedisBinary(path.toAbsolutePath(), source, versionOf(path))

        private fun versionOf(path: Path): String {
            val process =
                try {
                    ProcessBuilder(path.toString(), "--version").redirectErrorStream(true).start()
                } catch (e: java.io.IOException) {
                    throw TopologyException("cannot run '$path --version': ${e.message}", e)
                }
            val output = process.inputStream.bufferedReader().use { it.readText() }
            if (!process.waitFor(VERSION_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly()
                throw TopologyException("'$path --version' did not finish within $VERSION_TIMEOUT_SECONDS s")
            }
            return VERSION.find(output)?.groupValues?.get(1)
                ?: throw TopologyException("'$path --version' printed no Redis version: ${output.trim().take(200)}")
        }
    }
}
