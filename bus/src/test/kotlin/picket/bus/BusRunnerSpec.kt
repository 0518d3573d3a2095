package picket.bus

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import kotlinx.coroutines.withTimeout
import picket.core.Address
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.SentinelGroup
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/** A service as the runner finds it: an object exposing a bus with its methods registered. */
object RunnerService {
    lateinit var picket: Picket
    lateinit var spec: ConnSpec

    val bus: Bus by lazy {
        Bus(picket, "runner", spec, prefix = "runner_").also { bus ->
            kotlinx.coroutines.runBlocking {
                bus.register(MathService()::sum)
                bus.register(MathService()::divide)
            }
        }
    }
}

/** The command-line runner, run in-process on its own topology (1 master, no replica). */
class BusRunnerSpec :
    FunSpec({
        val topology = install(TopologyExtension()) { replicasPerMaster = 0 }
        val picket = Picket()
        picket.setSentinelGroups("main" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
        val spec = ConnSpec(sentinelGroup = "main", masterName = "mymaster")
        RunnerService.picket = picket
        RunnerService.spec = spec
        afterSpec {
            RunnerService.bus.close()
            picket.close()
        }

        test("the runner serves the bus an object exposes, like redis-bus rng.bus, and --debug stops at an exception") {
            withTimeout(30.seconds) {
                val caller = Bus(picket, "runner", spec)
                val server = BusRunner.start(arrayOf("--concurrency", "2", "picket.bus.RunnerService.bus"))
                server.methods shouldBe listOf("runner_divide", "runner_sum")
                caller.call("runner_sum", 2, 3) shouldBe 5
                server.stop(Duration.ofSeconds(5)) shouldBe true

                val debug = BusRunner.start(arrayOf("--debug", "picket.bus.RunnerService"))
                shouldThrow<RemoteException> { caller.call("runner_divide", 1, 0) }
                shouldThrow<DebugStopException> { debug.join() }.method shouldBe "runner_divide"
                caller.close()

                shouldThrow<InvalidSpecException> { BusRunner.start(arrayOf("--bogus", "x")) }.message shouldBe
                    "bus runner: unknown option --bogus"
                shouldThrow<InvalidSpecException> { BusRunner.start(arrayOf("no.such.Thing.bus")) }
                    .message!!
                    .shouldStartWith("bus runner: no class named")
            }
        }

        test("run as a program, bad arguments end it with exit status 2 and the usage on stderr") {
            withTimeout(30.seconds) {
                val java =
                    ProcessHandle
                        .current()
                        .info()
                        .command()
                        .orElse("java")
                val child =
                    ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        BusRunner::class.java.name,
                        "--bogus",
                    ).redirectErrorStream(true)
                        .start()
                try {
                    val output = child.inputStream.bufferedReader().readText()
                    child.waitFor(20, TimeUnit.SECONDS) shouldBe true
                    child.exitValue() shouldBe 2
                    output shouldContain "picket-bus: bus runner: unknown option --bogus"
                    output shouldContain "--concurrency"
                } finally {
                    child.destroyForcibly()
                }
            }
        }
    })
