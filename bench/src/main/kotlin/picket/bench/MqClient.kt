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
import kotlinx.coroutines.sync.Semaphore
import org.redisson.Redisson
import org.redisson.api.RedissonClient
import org.redisson.config.Config
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.mq.HandlerResult
import picket.mq.WorkerOptions
import picket.mq.queues
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong

/**
 * One client of the queue benchmark, usually in a JVM of its own ([BenchChild]): a pass moves `messages` through
 * the queue named by its tag end to end, one producer keeping `handlers` enqueues in flight and one consumer of
 * `handlers` handlers. It reports no figure of its own.
 */
internal class MqClient(
    override val name: String,
    private val pass: suspend (queue: String, messages: Int) -> Unit,
    private val close: () -> Unit,
) : ChildClient {
    override suspend fun run(
        tag: String,
        operations: Int,
    ): List<String> {
        pass(tag, operations)
        return emptyList()
    }

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
            return MqClient(MqBench.PICKET, { queue, messages ->
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
            return MqClient(MqBench.PLAIN, { queue, messages ->
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
            return MqClient(MqBench.REDISSON, { queue, messages ->
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
