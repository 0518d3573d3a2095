package picket.bus

import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.runBlocking
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import java.time.Duration

/**
 * A bus worker in a JVM of its own, for [BusFaultsSpec] to kill with SIGKILL mid-call. Arguments: the sentinels
 * (`host:port,host:port`), the master name, the bus name, the lease in ms. Registers `kill_hold`, whose run prints
 * `running` and then holds the call for ever; prints `started <instance id>` once it serves.
 */
object KillableBusWorker {
    @JvmStatic
    fun main(args: Array<String>) {
        val sentinels = args[0].split(',').map { Address(it.substringBefore(':'), it.substringAfter(':').toInt()) }
        val picket = Picket()
        picket.setSentinelGroups("main" to SentinelGroup(sentinels))
        val spec = ConnSpec(sentinelGroup = "main", masterName = args[1], commandTimeout = Duration.ofSeconds(3))
        val bus = Bus(picket, args[2], spec, "kill_", BusSettings(lease = Duration.ofMillis(args[3].toLong())))
        runBlocking {
            bus.register(Holder::hold, name = "kill_hold")
            bus.serve()
        }
        println("started ${bus.instanceId}")
        System.out.flush()
        Thread.sleep(Long.MAX_VALUE)
    }

    /** The held method. */
    object Holder {
        suspend fun hold(): String {
            println("running")
            System.out.flush()
            awaitCancellation()
        }
    }
}
