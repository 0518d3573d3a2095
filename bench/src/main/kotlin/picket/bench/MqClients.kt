package picket.bench

import io.lettuce.core.LMoveArgs
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Semaphore
import org.redisson.Redisson
import org.redisson.api.RedissonClient
import org.redisson.config.Config
import picket.core.Address
import picket.core.ConnSpec
import picket.mq.HandlerResult
import picket.mq.WorkerOptions
import picket.mq.queues
import picket.sentinel.Picket
import picket.sentinel.SentinelGroup
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import kotlin.system.exitProcess

/**
 * One client of the queue benchmark, in a JVM of its own ([MqChild]): [run] moves `messages` through `queue` end to
 * end, one producer keeping [handlers] enqueues in flight and one consumer of [handlers] handlers.
 */
internal class MqClient(
    val name: String,
    private val handlers: Int,
    val run: suspend (queue: String, messages: Int) -> Unit,
    private val close: () -> Unit,
) : AutoCloseable {
    override fun close() = close.invoke()

    companion object {
        /** Picket's queue: `enqueue` and a worker of [handlers] (default options otherwise). */
        fun picket(
            sentinels: List<Address>,
            masterName: String,
            handlers: Int,
        ): MqClient {
            val picket = Picket()
            picket.setSentinelGroups("bench" to SentinelGroup(sentinels))
            val queues = picket.queues(ConnSpec(sentinelGroup = "bench", masterName = masterName))
            return MqClient(MqBench.PICKET, handlers, { queue, messages ->
                val handled = AtomicLong()
                val worker =
                    queues.worker(queue, WorkerOptions(concurrency = handlers)) {
                        handled.incrementAndGet()
                        HandlerResult.success()
                    }
                produce(handlers, messages) { i -> queues.enqueue(queue, "m-$i") }
                while (handled.get() < messages) delay(1)
                worker.stop()
                queues.clearQueueDeletingAllMessages(queue)
            }) { picket.close() }
        }

        /** The reference: LPUSH; BLMOVE into a processing list on a connection per handler; LREM once handled. */
        fun plain(
            master: Address,
            handlers: Int,
        ): MqClient {
            val client = RedisClient.create()
            val uri = RedisURI.create(master.host, master.port)
            return MqClient(MqBench.PLAIN, handlers, { queue, messages ->
                val handled = AtomicLong()
                val producer = client.connect(uri)
                val consumers = (1..handlers).map { client.connect(uri) }
                try {
                    coroutineScope {
                        val jobs =
                            consumers.map { connection ->
                                launch(Dispatchers.Default) {
                                    val redis = connection.async()
                                    while (isActive && handled.get() < messages) {
                                        val m =
                                            redis
                                                .blmove(queue, "$queue:processing", LMoveArgs.Builder.rightLeft(), 0.2)
                                                .await() ?: continue
                                        handled.incrementAndGet()
                                        redis.lrem("$queue:processing", -1, m).await()
                                    }
                                }
                            }
                        produce(handlers, messages) { i -> producer.async().lpush(queue, "m-$i").await() }
                        jobs.forEach { it.join() }
                    }
                } finally {
                    producer.close()
                    consumers.forEach { it.close() }
                }
            }) { client.shutdown() }
        }

        /** Redisson's blocking queue in the same reliable pattern, a thread per handler (a blocking call holds one). */
        fun redisson(
            master: Address,
            handlers: Int,
        ): MqClient {
            val config = Config().apply { useSingleServer().setAddress("redis://${master.host}:${master.port}") }
            val redisson: RedissonClient = Redisson.create(config)
            return MqClient(MqBench.REDISSON, handlers, { queue, messages ->
                val handled = AtomicLong()
                val q = redisson.getBlockingQueue<String>(queue)
                val processing = redisson.getList<String>("$queue:processing")
                coroutineScope {
                    val jobs =
                        (1..handlers).map {
                            launch(Dispatchers.IO) {
                                while (handled.get() < messages) {
                                    val m =
                                        q.pollLastAndOfferFirstTo("$queue:processing", POLL_MS, TimeUnit.MILLISECONDS)
                                            ?: continue
                                    handled.incrementAndGet()
                                    processing.remove(m)
                                }
                            }
                        }
                    produce(handlers, messages) { i -> q.addAsync("m-$i").toCompletableFuture().await() }
                    jobs.forEach { it.join() }
                }
            }) { redisson.shutdown() }
        }

        /** One producer, up to [window] sends in flight. */
        private suspend fun produce(
            window: Int,
            messages: Int,
            send: suspend (Int) -> Unit,
        ) = coroutineScope {
            val inFlight = Semaphore(window)
            for (i in 0 until messages) {
                inFlight.acquire()
                launch {
                    try {
                        send(i)
                    } finally {
                        inFlight.release()
                    }
                }
            }
        }

        private const val POLL_MS = 200L
    }
}

/**
 * The program of one queue-benchmark client in its own JVM, driven by [MqBench] over standard input and output: each
 * client runs alone in a JVM, so that its JIT profiles and threads are its own (in one JVM, Picket's CPU per message
 * more than doubled once Redisson's rounds had run beside it, while the plain loop's barely moved).
 *
 * Arguments: client (picket, plain or redisson), comma-separated sentinels `host:port`, master name, master
 * `host:port`, handlers. Commands, one per line: `warmup <ms> <messages per pass>` → `warmed <passes>`;
 * `run <queue> <messages>` → `done <nanoseconds> <this JVM's CPU nanoseconds>`; `quit`. Replies start with
 * [MqChild.PREFIX]; a failure is `failed <message>` and ends the program with status 1.
 */
internal object MqChild {
    const val PREFIX = "mq-child: "

    @JvmStatic
    fun main(args: Array<String>) {
        require(args.size == ARGS) { "usage: MqChild picket|plain|redisson sentinels masterName master handlers" }
        val handlers = args[HANDLERS].toInt()
        val client =
            when (val kind = args[0]) {
                "picket" -> MqClient.picket(args[1].split(",").map(::address), args[2], handlers)
                "plain" -> MqClient.plain(address(args[MASTER]), handlers)
                "redisson" -> MqClient.redisson(address(args[MASTER]), handlers)
                else -> throw IllegalArgumentException("unknown client '$kind'")
            }
        val status =
            try {
                client.use { serve(it) }
                0
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                reply("failed ${e::class.simpleName}: ${e.message}")
                1
            }
        exitProcess(status)
    }

    private fun serve(client: MqClient) {
        while (true) {
            val words = (readlnOrNull() ?: return).trim().split(" ")
            if (words[0] == "quit") return
            reply(answer(client, words))
        }
    }

    /** Runs one command ([words]) on [client] and returns the reply (without [PREFIX]). */
    fun answer(
        client: MqClient,
        words: List<String>,
    ): String =
        when (words[0]) {
            "warmup" -> {
                val until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(words[1].toLong())
                var pass = 0
                while (pass == 0 || System.nanoTime() < until) {
                    runBlocking { client.run("warmup-${pass++}-${client.name.hashCode()}", words[2].toInt()) }
                }
                "warmed $pass"
            }

            "run" -> {
                val cpu = Inspect.processCpuNanos()
                val start = System.nanoTime()
                runBlocking { client.run(words[1], words[2].toInt()) }
                "done ${System.nanoTime() - start} ${Inspect.processCpuNanos() - cpu}"
            }

            else -> {
                throw IllegalArgumentException("unknown command '${words[0]}'")
            }
        }

    private fun reply(line: String) {
        println(PREFIX + line)
        System.out.flush()
    }

    private fun address(hostPort: String): Address =
        Address(hostPort.substringBeforeLast(":"), hostPort.substringAfterLast(":").toInt())

    private const val ARGS = 5
    private const val MASTER = 3
    private const val HANDLERS = 4
}
