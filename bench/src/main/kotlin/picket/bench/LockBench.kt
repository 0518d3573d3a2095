package picket.bench

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.redisson.Redisson
import org.redisson.api.RedissonClient
import org.redisson.config.Config
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.lock.Locks
import picket.lock.locks
import picket.testkit.RedisNode
import picket.testkit.Topology
import java.time.Duration
import java.util.Locale
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/** One uncontended measurement: [pairs] acquire-and-release pairs by the one caller of [client] in [round]. */
class LockRound(
    val round: Int,
    val client: String,
    val pairs: Long,
    val pairsPerSecond: Double,
)

/**
 * One contended measurement of [client] in [round]: every timed hand-off, in ms, from the stamp a holder takes just
 * before it calls release to the next holder's acquire returning.
 */
class HandoffRound(
    val round: Int,
    val client: String,
    val handoffsMs: List<Double>,
    /** For each of [handoffsMs]: whether it went back to the caller that had just released (it took the lock again). */
    val sameCaller: List<Boolean>,
) {
    /** The hand-offs that went back to the caller that had just released. */
    val toSameCaller: Int get() = sameCaller.count { it }

    /** The hand-offs, in ms, that went to another caller: a waiter woken by the release. */
    val toOtherCallerMs: List<Double> get() = handoffsMs.filterIndexed { i, _ -> !sameCaller[i] }
}

/** Everything the lock benchmark measured, for [LockReport] and the smoke spec. */
class LockResult(
    /** The master both clients locked on. */
    val node: String,
    /** Redisson's version, as its jar states it. */
    val redisson: String,
    /** How long each uncontended measurement ran. */
    val duration: Duration,
    /** Callers of each contended measurement. */
    val waiters: Int,
    /** Hand-offs timed per contended measurement. */
    val handoffs: Int,
    /** How long each holder kept the contended lock. */
    val hold: Duration,
    val uncontended: List<LockRound>,
    val contended: List<HandoffRound>,
)

/**
 * Picket's [Locks] against Redisson's `RLock` on the same master, side by side in one run. *Uncontended*: one caller
 * takes and releases a lock nobody else wants, as fast as it can, for [Settings.lockDuration] (Picket:
 * `acquire(name, holdFor = 10 s, waitFor = 0)` then `release(lease)`, on [Dispatchers.Default]; Redisson:
 * `tryLock(0, 10, SECONDS)` then `unlock()`, blocking, on a thread of [Dispatchers.IO]). *Contended*:
 * [Settings.lockWaiters] callers (Picket: coroutines on [Dispatchers.Default] sharing one [Locks]; Redisson:
 * threads sharing one client) take the same lock in turn, each waiting up to 10 s, holding it [Settings.lockHold]
 * and releasing it, until [Settings.lockHandoffs] hand-offs are timed. Both clients wake their waiters through
 * pub/sub on release. A warm-up pass of each client first, then [Settings.lockRounds] rounds, each client once per
 * round in each measurement, alternating which goes first as in [ThroughputBench].
 */
class LockBench(
    context: BenchContext,
) : TopologyBench(context) {
    /** One measured client: its uncontended loop, and one contender of the contended measurement. */
    private class Client(
        val name: String,
        /** One caller's acquire-and-release pairs until `until` ([System.nanoTime]); returns how many. */
        val pairs: suspend (until: Long) -> Long,
        /** Contender `caller`: takes the lock in turn until the measurement is over, reporting to [Handoffs]. */
        val contend: suspend (handoffs: Handoffs, caller: Int) -> Unit,
    )

    suspend fun run(): LockResult {
        // An earlier benchmark's failovers may still echo: start on quiet sentinels and a settled master.
        events.awaitQuiet(settings.quiet, settings.maxQuiet)
        val master = blocking { topology.awaitMaster(masterName) }
        val picket = Picket()
        var redisson: RedissonClient? = null
        try {
            picket.setSentinelGroups("bench" to SentinelGroup(topology.sentinels.map { Address(it.host, it.port) }))
            return picket.locks(ConnSpec(sentinelGroup = "bench", masterName = masterName)).use { locks ->
                val peer = blocking { Redisson.create(config(master)) }.also { redisson = it }
                measure(master, listOf(picketClient(locks), redissonClient(peer)))
            }
        } finally {
            redisson?.shutdown()
            picket.close()
        }
    }

    /** A warm-up pass (each client once in each measurement, uncounted), then [Settings.lockRounds] rounds. */
    private suspend fun measure(
        master: RedisNode,
        clients: List<Client>,
    ): LockResult {
        clients.forEach { client ->
            uncontended(client)
            contended(client)
        }
        progress(
            "lock warm-up done: ${clients.joinToString { it.name }}, ${settings.lockDuration.toMillis()} ms " +
                "uncontended and ${settings.lockHandoffs} hand-offs each",
        )
        val uncontended = mutableListOf<LockRound>()
        val contended = mutableListOf<HandoffRound>()
        for (round in 1..settings.lockRounds) {
            val order = if (round % 2 == 1) clients else clients.reversed()
            order.forEach { client ->
                val (pairs, perSecond) = uncontended(client)
                progress("lock round $round: ${client.name} uncontended ${perSecond.toLong()} acquire+release/s")
                uncontended += LockRound(round, client.name, pairs, perSecond)
            }
            order.forEach { client ->
                val handoffs = contended(client)
                val ms = handoffs.millis()
                progress(
                    "lock round $round: ${client.name} hand-off p50 %.2f ms, p99 %.2f ms, %d of %d to the same caller"
                        .format(Locale.ROOT, percentile(ms, P50), percentile(ms, P99), handoffs.toSameCaller, ms.size),
                )
                contended += HandoffRound(round, client.name, ms, handoffs.sameCaller())
            }
        }
        return LockResult(
            node = master.address,
            redisson = Redisson::class.java.`package`?.implementationVersion ?: "?",
            duration = settings.lockDuration,
            waiters = settings.lockWaiters,
            handoffs = settings.lockHandoffs,
            hold = settings.lockHold,
            uncontended = uncontended,
            contended = contended,
        )
    }

    /** [client]'s pairs in [Settings.lockDuration], and pairs per second. */
    private suspend fun uncontended(client: Client): Pair<Long, Double> {
        val start = System.nanoTime()
        val pairs = client.pairs(start + settings.lockDuration.toNanos())
        return pairs to pairs * NANOS_PER_SECOND / (System.nanoTime() - start)
    }

    /** [Settings.lockWaiters] contenders of [client] until [Settings.lockHandoffs] hand-offs are timed. */
    private suspend fun contended(client: Client): Handoffs {
        val handoffs = Handoffs(untimed = settings.lockWaiters, wanted = settings.lockHandoffs)
        coroutineScope {
            repeat(settings.lockWaiters) { caller -> launch(Dispatchers.Default) { client.contend(handoffs, caller) } }
        }
        return handoffs
    }

    private fun picketClient(locks: Locks): Client =
        Client(
            Report.PICKET_LOCK,
            pairs = { until ->
                withContext(Dispatchers.Default) {
                    var pairs = 0L
                    while (System.nanoTime() < until) {
                        val lease = locks.acquire(PICKET_NAME, HOLD_FOR, Duration.ZERO)
                        checkNotNull(lease) { "Picket: $PICKET_NAME held by another owner in the uncontended loop" }
                        check(locks.release(lease)) { "Picket: the lease on $PICKET_NAME had expired when released" }
                        pairs++
                    }
                    pairs
                }
            },
            contend = { handoffs, caller ->
                do {
                    val lease = locks.acquire(PICKET_NAME, HOLD_FOR, WAIT_FOR)
                    checkNotNull(lease) { "Picket: a waiter did not get $PICKET_NAME within ${WAIT_FOR.seconds} s" }
                    val more = handoffs.acquired(caller)
                    if (more) delay(settings.lockHold.toMillis())
                    handoffs.releasing()
                    check(locks.release(lease)) { "Picket: the lease on $PICKET_NAME had expired when released" }
                } while (more && !handoffs.done)
            },
        )

    /** Redisson's blocking calls, each caller on a thread of its own: an `RLock` is held by a thread. */
    private fun redissonClient(redisson: RedissonClient): Client =
        Client(
            Report.REDISSON_LOCK,
            pairs = { until ->
                withContext(Dispatchers.IO) {
                    val lock = redisson.getLock(REDISSON_NAME)
                    var pairs = 0L
                    while (System.nanoTime() < until) {
                        check(lock.tryLock(0, HOLD_FOR.seconds, TimeUnit.SECONDS)) {
                            "Redisson: $REDISSON_NAME held by another owner in the uncontended loop"
                        }
                        lock.unlock()
                        pairs++
                    }
                    pairs
                }
            },
            contend = { handoffs, caller ->
                withContext(Dispatchers.IO) {
                    val lock = redisson.getLock(REDISSON_NAME)
                    do {
                        check(lock.tryLock(WAIT_FOR.seconds, HOLD_FOR.seconds, TimeUnit.SECONDS)) {
                            "Redisson: a waiter did not get $REDISSON_NAME within ${WAIT_FOR.seconds} s"
                        }
                        val more = handoffs.acquired(caller)
                        if (more) Thread.sleep(settings.lockHold.toMillis())
                        handoffs.releasing()
                        lock.unlock()
                    } while (more && !handoffs.done && isActive)
                }
            },
        )

    companion object {
        /** The lease of every acquisition: long enough never to expire in the loops, so no release finds it gone. */
        val HOLD_FOR: Duration = Duration.ofSeconds(10)

        /** How long a contender waits: generous, so that a figure never counts a waiter giving up. */
        val WAIT_FOR: Duration = Duration.ofSeconds(10)

        /** Each client its own lock name on the same master. */
        const val PICKET_NAME = "bench:lock"
        const val REDISSON_NAME = "bench:redisson-lock"

        const val P50 = 0.50
        const val P99 = 0.99
        private const val NANOS_PER_SECOND = 1e9

        private fun config(master: RedisNode): Config =
            Config().apply { useSingleServer().setAddress("redis://${master.host}:${master.port}") }
    }
}

/**
 * The shared record of one contended measurement: how many hold the lock (never more than one, or the lock failed),
 * the stamp each holder takes just before calling release, and the hand-offs timed from it. The first [untimed]
 * acquisitions are held but not timed: the callers are still arriving and queueing.
 */
private class Handoffs(
    private val untimed: Int,
    private val wanted: Int,
) {
    private val holders = AtomicInteger()
    private val acquisitions = AtomicInteger()
    private val releasedAt = AtomicLong()
    private val timed = AtomicInteger()
    private val lastHolder = AtomicInteger(-1)

    // Written only by the holder of the lock, one at a time; read after every contender has finished.
    private val samples = LongArray(wanted)
    private val again = BooleanArray(wanted)

    /** Enough hand-offs timed: the measurement is over. */
    val done: Boolean get() = timed.get() >= wanted

    /** Timed hand-offs that went back to the caller that had just released. */
    val toSameCaller: Int get() = again.take(timed.get()).count { it }

    /**
     * Just after [caller]'s acquire returned: true to hold the lock and go on, false to release it at once and stop.
     */
    fun acquired(caller: Int): Boolean {
        val now = System.nanoTime()
        check(holders.incrementAndGet() == 1) { "two holders of the lock at once" }
        val previous = lastHolder.getAndSet(caller)
        if (acquisitions.incrementAndGet() <= untimed) return true
        val index = timed.get()
        if (index >= wanted) return false
        samples[index] = now - releasedAt.get()
        again[index] = previous == caller
        timed.set(index + 1)
        return true
    }

    /** Just before calling release. */
    fun releasing() {
        holders.decrementAndGet()
        releasedAt.set(System.nanoTime())
    }

    /** The timed hand-offs in ms, in the order they happened. */
    fun millis(): List<Double> = samples.take(timed.get()).map { millis(it) }

    /** For each of [millis]: whether the lock went back to the caller that had just released it. */
    fun sameCaller(): List<Boolean> = again.take(timed.get())
}
