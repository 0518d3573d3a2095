package picket.mq

import kotlinx.coroutines.awaitCancellation
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import java.time.Duration

/**
 * A queue worker in a JVM of its own, for [MessageQueuesSpec] to kill with SIGKILL mid-message. Arguments: the
 * sentinels (`host:port,host:port`), the master name, the queue, the visibility timeout in ms. Prints `started` once
 * its worker runs and `taken <id> <attempt>` when its handler gets a message, which it then holds for ever.
 */
object KillableWorker {
    @JvmStatic
    fun main(args: Array<String>) {
        val sentinels = args[0].split(',').map { Address(it.substringBefore(':'), it.substringAfter(':').toInt()) }
        val picket = Picket()
        picket.setSentinelGroups("main" to SentinelGroup(sentinels))
        val queues = picket.queues(ConnSpec(sentinelGroup = "main", masterName = args[1]))
        queues.worker(args[2], WorkerOptions(visibilityTimeout = Duration.ofMillis(args[3].toLong()))) { d ->
            println("taken ${d.id} ${d.attempt}")
            System.out.flush()
            awaitCancellation()
        }
        println("started")
        System.out.flush()
        Thread.sleep(Long.MAX_VALUE)
    }
}
