package picket.sentinel.internal.resolution

import kotlinx.coroutines.sync.Mutex
import picket.core.Address
import picket.core.SentinelGroup
import picket.core.internal.connections.DataConnections
import picket.sentinel.internal.failover.LossWatch
import picket.sentinel.internal.failover.WriteMarks
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.LongAdder

/** Everything Picket knows about one sentinel group. */
internal class GroupState(
    val name: String,
    val config: SentinelGroup,
) {
    /** The configured sentinels in a per-process random order, so that processes spread over them. */
    private val configured: List<Address> = config.sentinels.shuffled()
    private val discovered = CopyOnWriteArrayList<Address>()

    @Volatile
    var lastGood: Address? = null

    val masters = ConcurrentHashMap<String, MasterEntry>()

    /** Held while the cache of a master name changes: a switch, or a resolution or replica answer being cached. */
    val switchLock = Any()

    /**
     * The last entry cached per name, kept across invalidations: a later switch names its address as the old one,
     * and its marks tell what was lost.
     */
    val lastEntries = ConcurrentHashMap<String, MasterEntry>()

    /** The master of [masterName] Picket follows: the cached one, else the last one cached; null if never any. */
    fun known(masterName: String): Address? = masters[masterName]?.address ?: lastEntries[masterName]?.address

    /** Caches [entry] as the master of [masterName]. */
    fun cache(
        masterName: String,
        entry: MasterEntry,
    ) {
        masters[masterName] = entry
        lastEntries[masterName] = entry
    }

    /** Per master name, how far the master's stream went after the last block on it, for read-your-writes. */
    private val writeMarks = ConcurrentHashMap<String, WriteMarks>()

    fun writeMarks(masterName: String): WriteMarks =
        writeMarks[masterName] ?: writeMarks.computeIfAbsent(masterName) { WriteMarks() }

    /** The highest config-epoch followed per master name: an answer with a lower one is stale. */
    val epochs = ConcurrentHashMap<String, Long>()

    /** Records [epoch] for [masterName] if it is higher than the one followed. */
    fun followEpoch(
        masterName: String,
        epoch: Long?,
    ) {
        if (epoch != null) epochs.merge(masterName, epoch, ::maxOf)
    }

    /** Bumped on every switch or invalidation of a name: a resolution that began before must not cache its answer. */
    private val generations = ConcurrentHashMap<String, AtomicLong>()

    /** Blocks per master name that found their master in the cache, for [picket.core.GroupStatus]. */
    private val hits = ConcurrentHashMap<String, LongAdder>()

    fun hit(masterName: String) = (hits[masterName] ?: hits.computeIfAbsent(masterName) { LongAdder() }).increment()

    fun cacheHits(): Map<String, Long> = hits.mapValues { it.value.sum() }

    /** Rounds of questions asked of the sentinels (master or replicas), for [picket.core.GroupStatus]. */
    val rounds = AtomicLong()

    /** Replicas passed over for reads though Sentinel may list them as healthy: why, and since when (nanoTime). */
    private val passedOver = ConcurrentHashMap<Address, Pair<String, Long>>()

    /** Passes [replica] over for reads for [PASS_OVER_NANOS], because of [reason]. */
    fun passOver(
        replica: Address,
        reason: String,
    ) {
        passedOver[replica] = reason to System.nanoTime()
    }

    /** The replicas passed over within the last second, with why. */
    fun passedOverReplicas(): Map<Address, String> {
        if (passedOver.isEmpty()) return emptyMap()
        val now = System.nanoTime()
        passedOver.entries.removeIf { now - it.value.second > PASS_OVER_NANOS }
        return passedOver.mapValues { it.value.first }
    }

    /** Healthy replicas per master name, until an event or an error says they changed. */
    val replicas = ConcurrentHashMap<String, List<Address>>()

    /** Sentinels to ask, in order: the last one that answered, then discovered ones, then configured ones. */
    fun orderedSentinels(): List<Address> {
        val all = (discovered + configured).distinct()
        val first = lastGood?.takeIf { it in all }
        return if (first == null) all else listOf(first) + (all - first)
    }

    /** Every sentinel known now: configured and discovered. */
    fun allSentinels(): List<Address> = (configured + discovered).distinct()

    /**
     * Adds sentinels learnt from [answering]'s `SENTINEL sentinels` reply (which omits the answering one); returns
     * the ones that were new.
     */
    fun learn(
        answering: Address,
        others: List<Address>,
    ): List<Address> {
        val known = allSentinels().toSet()
        val fresh = (others + answering).distinct().filter { it !in known }
        discovered.addAll(fresh)
        return fresh
    }

    fun generation(masterName: String): Long = generations.computeIfAbsent(masterName) { AtomicLong() }.get()

    fun bump(masterName: String) {
        generations.computeIfAbsent(masterName) { AtomicLong() }.incrementAndGet()
    }
}

/**
 * How long a replica that refused a connection or answered LOADING or MASTERDOWN is passed over: long enough for
 * the next attempts of the same block and its neighbours to go elsewhere, short enough that a replica back after a
 * restart is used again at once. A replica still loading after that costs the next reads one more attempt each,
 * run elsewhere, and is passed over again.
 */
private const val PASS_OVER_NANOS = 1_000_000_000L
