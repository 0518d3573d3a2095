package picket.bench

import picket.core.Address
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference
import kotlin.system.exitProcess

/**
 * The program of one client of the Java-path benchmark ([JavaPathBench]) in a JVM of its own, driven by [ClientJvm]
 * over standard input and output like [BenchChild]: its callers are plain threads (platform, or virtual ones made by
 * reflection so that this compiles for Java 17 and runs them on a JDK ≥ 21), each calling the client synchronously.
 *
 * Arguments: the client ([JavaPathClients.KINDS]), comma-separated sentinels `host:port`, the master's name, the
 * callers, and `platform` or `virtual`. Commands, one per line: `measure <SET|GET> <warm-up ms> <ms>` → `done <ops
 * counted> <nanoseconds counted>`; `quit`. Replies start with [BenchChild.PREFIX]; a failure is `failed <message>`
 * and ends the program with status 1.
 */
internal object JavaPathChild {
    @JvmStatic
    fun main(args: Array<String>) {
        require(args.size == ARGS) { "usage: JavaPathChild client sentinels masterName threads platform|virtual" }
        val status =
            try {
                val threads = args[THREADS].toInt()
                val virtual = args[KIND] == "virtual"
                val sentinels =
                    args[1].split(",").map {
                        Address(it.substringBeforeLast(":"), it.substringAfterLast(":").toInt())
                    }
                JavaPathClients.create(args[0], sentinels, args[2], threads).use { client ->
                    // Every caller's key exists before the first GET.
                    repeat(threads) { client.set(key(it), VALUE) }
                    serve(client, threads, virtual)
                }
                0
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                reply("failed ${e::class.simpleName}: ${e.message}")
                1
            }
        exitProcess(status)
    }

    private fun serve(
        client: SyncClient,
        threads: Int,
        virtual: Boolean,
    ) {
        while (true) {
            val words = (readlnOrNull() ?: return).trim().split(" ")
            when (words[0]) {
                "quit" -> {
                    return
                }

                "measure" -> {
                    val op = Op.valueOf(words[1])
                    val warmup = TimeUnit.MILLISECONDS.toNanos(words[2].toLong())
                    val duration = TimeUnit.MILLISECONDS.toNanos(words[WINDOW].toLong())
                    reply("done ${measure(client, op, threads, virtual, warmup, duration)} $duration")
                }

                else -> {
                    throw IllegalArgumentException("unknown command '${words[0]}'")
                }
            }
        }
    }

    /**
     * Runs [threads] callers, each issuing [op] one after the other on its own key, for [warmup] and then [duration]
     * nanoseconds; returns the operations completed during [duration]. The first caller's error is thrown.
     */
    private fun measure(
        client: SyncClient,
        op: Op,
        threads: Int,
        virtual: Boolean,
        warmup: Long,
        duration: Long,
    ): Long {
        val counts = LongArray(threads)
        val failure = AtomicReference<Throwable>()
        val go = CountDownLatch(1)
        var from = 0L
        var until = 0L
        val callers =
            (0 until threads).map { caller ->
                val task =
                    Runnable {
                        go.await()
                        val key = key(caller)
                        var count = 0L
                        try {
                            while (true) {
                                if (op == Op.SET) client.set(key, VALUE) else client.get(key)
                                val now = System.nanoTime()
                                if (now >= until) break
                                if (now >= from) count++
                            }
                        } catch (
                            @Suppress("TooGenericExceptionCaught") e: Throwable,
                        ) {
                            failure.compareAndSet(null, e)
                        }
                        counts[caller] = count
                    }
                if (virtual) virtualThread(task) else Thread(task, "java-path-caller-$caller")
            }
        callers.forEach { it.start() }
        from = System.nanoTime() + warmup
        until = from + duration
        // The latch publishes from and until to every caller.
        go.countDown()
        callers.forEach { it.join(TimeUnit.NANOSECONDS.toMillis(warmup + duration) + JOIN_GRACE_MS) }
        check(callers.none { it.isAlive }) { "a caller did not end within ${JOIN_GRACE_MS} ms of the window's end" }
        failure.get()?.let { throw IllegalStateException("a caller failed: $it", it) }
        return counts.sum()
    }

    /** An unstarted virtual thread running [task]: `Thread.ofVirtual().unstarted(task)`, by reflection (Java 21+). */
    private fun virtualThread(task: Runnable): Thread {
        val builder = Thread::class.java.getMethod("ofVirtual").invoke(null)
        return Class
            .forName("java.lang.Thread\$Builder")
            .getMethod("unstarted", Runnable::class.java)
            .invoke(builder, task) as Thread
    }

    private fun key(caller: Int) = "jp:$caller"

    private fun reply(line: String) {
        println(BenchChild.PREFIX + line)
        System.out.flush()
    }

    private const val VALUE = "0123456789abcdef"
    private const val ARGS = 5
    private const val THREADS = 3
    private const val KIND = 4
    private const val WINDOW = 3
    private const val JOIN_GRACE_MS = 30_000L
}
