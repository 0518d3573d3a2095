package picket.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldMatch
import java.io.File
import java.nio.file.Files

class RedisBinarySpec :
    FunSpec({
        test("without the variable and with an empty PATH the embedded 6.2 binary is extracted and used") {
            val binary = RedisBinary.locate(null, "")
            binary.source shouldBe RedisBinary.Source.EMBEDDED
            binary.version shouldMatch Regex("""6\.2\.\d+""")
            Files.isExecutable(binary.path) shouldBe true
        }

        test("the environment variable wins over the PATH") {
            val embedded = RedisBinary.embedded()
            val binary = RedisBinary.locate(embedded.path.toString(), System.getenv("PATH"))
            binary.source shouldBe RedisBinary.Source.ENVIRONMENT
            binary.path shouldBe embedded.path
        }

        test("redis-server on the PATH is found before the embedded one") {
            val dir = Files.createTempDirectory("picket-path-")
            try {
                Files.createSymbolicLink(dir.resolve("redis-server"), RedisBinary.embedded().path)
                val binary = RedisBinary.locate(null, "/nonexistent${File.pathSeparator}$dir")
                binary.source shouldBe RedisBinary.Source.PATH
                binary.path shouldBe dir.resolve("redis-server").toAbsolutePath()
                binary.version shouldMatch Regex("""6\.2\.\d+""")
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        test("a variable naming something that is not an executable is a clear error") {
            val error = shouldThrow<TopologyException> { RedisBinary.locate("/nonexistent/redis-server", null) }
            error.message shouldBe
                "PICKET_REDIS_SERVER names '/nonexistent/redis-server', which is not an executable file"
        }

        test("an executable that is not redis-server is refused") {
            val error =
                shouldThrow<TopologyException> {
                    RedisBinary.of(
                        java.nio.file.Path
                            .of("/bin/echo"),
                    )
                }
            error.message shouldContain "printed no Redis version"
        }

        test("versions compare numerically, and atLeast names what to add when nothing is recent enough") {
            RedisBinary.compareVersions("7.10.0", "7.2") shouldBe 8
            RedisBinary.compareVersions("7.2", "7.2.0") shouldBe 0
            RedisBinary.compareVersions("6.2.6", "7.2") shouldBe -1
            RedisBinary.atLeast("6.0").version.let { RedisBinary.compareVersions(it, "6.0") >= 0 } shouldBe true
            // The test kit's own classpath has no Redis 7.4 artifact: a version no server has yet is refused.
            shouldThrow<TopologyException> { RedisBinary.atLeast("99.0") }.message shouldContain
                "Redis 99.0 or later is needed"
        }

        test("a binary built without TLS says why a TLS topology cannot start; the embedded 6.2 has TLS") {
            RedisBinary.embedded().tlsUnsupportedReason shouldBe null
            val dir = Files.createTempDirectory("picket-notls-")
            try {
                // A stand-in for a build without TLS: it has a version, and refuses the TLS port as such builds do.
                val script = dir.resolve("redis-server")
                Files.writeString(
                    script,
                    "#!/bin/sh\ncase \"$1\" in --version) echo 'Redis server v=6.0.9';; " +
                        "*) echo '*** FATAL CONFIG FILE ERROR: TLS not supported' ;; esac\n",
                )
                script.toFile().setExecutable(true)
                val binary = RedisBinary.of(script)
                binary.tlsUnsupportedReason!! shouldContain "was built without TLS: *** FATAL CONFIG FILE ERROR"
                shouldThrow<TopologyException> {
                    Topology.start(TopologyConfig(binary = binary, tls = TopologyTls(), sentinels = 0))
                }.message shouldContain "cannot start a TLS topology: redis-server 6.0.9"
            } finally {
                dir.toFile().deleteRecursively()
            }
        }
    })
