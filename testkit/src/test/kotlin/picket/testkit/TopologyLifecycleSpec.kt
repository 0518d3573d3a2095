package picket.testkit

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.types.shouldBeInstanceOf
import picket.testkit.internal.Ports
import picket.testkit.internal.ProcessRegistry
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/** Topologies that are not shared: several master names, the extension's teardown, orphans of a dead JVM. */
class TopologyLifecycleSpec :
    FunSpec({
        val spec = this

        test("the extension's teardown kills every process and deletes every folder") {
            val extension = TopologyExtension(TopologyConfig(replicasPerMaster = 1, sentinels = 1, quorum = 1))
            val topology = extension.mount { }
            val pids = topology.nodes.map { it.pid!! }
            pids shouldHaveSize 3
            val dirs = topology.nodes.map { it.directory }
            dirs.forEach { Files.isDirectory(it) shouldBe true }

            extension.afterSpec(spec)

            pids.forEach { Clients.isAlive(it) shouldBe false }
            dirs.forEach { Files.exists(it) shouldBe false }
            pids.forEach { Files.exists(ProcessRegistry.directory.resolve("$it")) shouldBe false }
        }

        test("several master names are monitored by the same sentinels, and failing one over leaves the other") {
            val config = TopologyConfig(masterNames = listOf("orders", "users"), replicasPerMaster = 1)
            Topology.start(config).use { topology ->
                val orders = topology.awaitMaster("orders")
                val users = topology.awaitMaster("users")
                topology.sentinels.forEach {
                    topology
                        .role(it)
                        .shouldBeInstanceOf<NodeRole.Sentinel>()
                        .masterNames
                        .sorted() shouldContainExactly
                        listOf("orders", "users")
                }
                topology.kill(orders)
                val promoted = topology.awaitMaster("orders", notEqualTo = orders)
                promoted shouldBe topology.dataNodes("orders")[1]
                topology.awaitMaster("users") shouldBe users
            }
        }

        test("a node whose port another process took moves to another port instead of adopting that process") {
            val config = TopologyConfig(replicasPerMaster = 0, sentinels = 1, quorum = 1)
            Topology.start(config).use { first ->
                val taken = first.dataNodes.single()
                // The second topology's first node is handed the port the first one's master listens on: it exits
                // with "Address already in use", and until that exit is seen the other master answers on its port.
                Ports.forceNext(taken.port)
                Topology.start(config).use { second ->
                    val master = second.dataNodes.single()
                    master.port shouldNotBe taken.port
                    master.isRunning shouldBe true
                    master.logTail(200).any { "Address already in use" in it } shouldBe true
                    second.nodes.forEach { node ->
                        Clients
                            .on(
                                node,
                            ) { it.info("server") }
                            .lineSequence()
                            .first { it.startsWith("process_id:") } shouldBe
                            "process_id:${node.pid}"
                    }
                    second.awaitMaster(config.masterNames.single()) shouldBe master
                }
                first.awaitMaster(config.masterNames.single()) shouldBe taken
            }
        }

        test("a redis-server left behind by a dead JVM is killed at the next start") {
            val binary = RedisBinary.locate()
            val dir = Files.createTempDirectory("picket-orphan-")
            // A process that has already exited stands for the crashed JVM that owned the orphan.
            val deadOwner = ProcessBuilder("true").start().also { it.waitFor(5, TimeUnit.SECONDS) }
            val orphan =
                // Port 0 and a unix socket: with neither, redis-server exits at once ("Configured to not listen
                // anywhere"), and the check below raced against that exit.
                ProcessBuilder(
                    binary.path.toString(),
                    "--port",
                    "0",
                    "--unixsocket",
                    dir.resolve("redis.sock").toString(),
                    "--save",
                    "",
                    "--dir",
                    dir.toString(),
                ).redirectOutput(dir.resolve("log").toFile())
                    .redirectErrorStream(true)
                    .start()
            try {
                Files.createDirectories(ProcessRegistry.directory)
                Files.writeString(
                    ProcessRegistry.directory.resolve("${orphan.pid()}"),
                    "${deadOwner.pid()} 0 ${binary.path}\n",
                )
                orphan.isAlive shouldBe true

                ProcessRegistry.reapOrphans()

                orphan.waitFor(5, TimeUnit.SECONDS) shouldBe true
                Files.exists(ProcessRegistry.directory.resolve("${orphan.pid()}")) shouldBe false
            } finally {
                orphan.destroyForcibly()
                dir.toFile().deleteRecursively()
            }
        }
    })
