package picket.testkit.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import picket.testkit.TopologyException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermissions

private val log = KotlinLogging.logger {}

/** An artifact that ships `redis-server` binaries as resources, per operating system and architecture. */
internal class EmbeddedArtifact(
    val coordinates: String,
    val resources: Map<Pair<String, String>, String>,
)

/** Extracts the redis-server binary that an embedded-redis artifact ships as a resource. */
internal object EmbeddedBinary {
    /** Redis 6.2, a dependency of the test kit. */
    val REDIS_62 =
        EmbeddedArtifact(
            "com.github.codemonstur:embedded-redis:1.4.3",
            mapOf(
                ("linux" to "amd64") to "redis-server-6.2.6-v5-linux-amd64",
                ("linux" to "arm64") to "redis-server-6.2.7-linux-arm64",
                ("mac" to "amd64") to "redis-server-6.2.6-v5-darwin-amd64",
                ("mac" to "arm64") to "redis-server-6.2.6-v5-darwin-arm64",
            ),
        )

    /** Redis 7.4 (statically linked), for specs of newer commands; on the classpath only where a module adds it. */
    val REDIS_74 =
        EmbeddedArtifact(
            "cn.ponfee:embedded-redis:1.6",
            mapOf(
                ("linux" to "amd64") to "redis-server-7.4.1-linux-amd64",
                ("linux" to "arm64") to "redis-server-7.4.1-linux-arm64",
                ("mac" to "amd64") to "redis-server-7.4.1-darwin-amd64",
                ("mac" to "arm64") to "redis-server-7.4.1-darwin-arm64",
            ),
        )

    /** Whether [artifact]'s binary for this machine is on the classpath. */
    fun available(artifact: EmbeddedArtifact): Boolean =
        artifact.resources[platform()]?.let { EmbeddedBinary::class.java.classLoader.getResource(it) } != null

    private fun platform(): Pair<String, String> =
        normalizeOs(System.getProperty("os.name")) to normalizeArch(System.getProperty("os.arch"))

    fun extract(artifact: EmbeddedArtifact = REDIS_62): Path {
        val resource =
            artifact.resources[platform()]
                ?: throw TopologyException(
                    "${artifact.coordinates} ships no redis-server for ${System.getProperty("os.name")}/" +
                        "${System.getProperty("os.arch")}; install redis-server or set PICKET_REDIS_SERVER",
                )
        val target = cacheDir().resolve(resource)
        if (Files.isExecutable(target)) return target
        Files.createDirectories(target.parent)
        val stream =
            EmbeddedBinary::class.java.classLoader.getResourceAsStream(resource)
                ?: throw TopologyException(
                    "resource '$resource' not found: is ${artifact.coordinates} on the classpath?",
                )
        // Write beside the target and move atomically, so that concurrent JVMs never run a half-written file.
        val temp = Files.createTempFile(target.parent, "$resource-", ".part")
        try {
            stream.use { Files.copy(it, temp, StandardCopyOption.REPLACE_EXISTING) }
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"))
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        } finally {
            Files.deleteIfExists(temp)
        }
        log.info { "extracted embedded redis-server to $target" }
        return target
    }

    private fun cacheDir(): Path {
        val xdg = System.getenv("XDG_CACHE_HOME")
        val base = if (xdg.isNullOrBlank()) Path.of(System.getProperty("user.home"), ".cache") else Path.of(xdg)
        return base.resolve("picket")
    }

    private fun normalizeOs(name: String): String =
        when {
            name.startsWith("Linux", ignoreCase = true) -> "linux"
            name.startsWith("Mac", ignoreCase = true) -> "mac"
            else -> name.lowercase()
        }

    private fun normalizeArch(arch: String): String =
        when (arch) {
            "amd64", "x86_64" -> "amd64"
            "aarch64", "arm64" -> "arm64"
            else -> arch
        }
}
