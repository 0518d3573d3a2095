package picket.sentinel

import io.micrometer.core.instrument.Counter
import io.micrometer.core.instrument.DistributionSummary
import io.micrometer.core.instrument.FunctionCounter
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.Timer
import picket.core.Picket
import picket.core.PicketEvent
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong

/**
 * Picket's failover metrics in a Micrometer [registry], from the events of [picket]. Micrometer is an optional
 * dependency of picket-sentinel: an application that uses this class brings `io.micrometer:micrometer-core` and the
 * registry (binding) of its choice.
 *
 * ```kotlin
 * PicketMetrics(picket, registry) // until close()
 * ```
 *
 * Meters, each tagged with `group` and, where it applies, `masterName`:
 * - `picket.resolutions` (counter): master names resolved through the sentinels and verified with ROLE;
 * - `picket.resolution.failures` (counter, tag `exception`): resolutions that failed as a whole;
 * - `picket.sentinel.errors` (counter, tag `sentinel`): one sentinel failing a question or a subscription;
 * - `picket.switches` (counter): masters switched (once per failover, however many sentinels announce it);
 * - `picket.invalidations` (counter): cached masters dropped (READONLY, refused connections, ROLE sweeps, by hand);
 * - `picket.failovers` (timer, tag `outcome`: SWITCHED, ABORTED, TIMED_OUT): from the failover leader's
 *   `+selected-slave` until Picket's switch, abort or parking timeout, i.e. how long new master blocks were parked;
 * - `picket.parked.blocks` (counter): blocks that waited during those failovers;
 * - `picket.config.epoch` (gauge): the Sentinel config-epoch followed for the master name;
 * - `picket.switch.first.write` (timer): from Picket's switch to the first block that succeeded on the new master;
 * - `picket.failover.first.write` (timer): from the leader's `+selected-slave` to that block, when Picket parked;
 * - `picket.loss.suspected` (counter) and `picket.loss.gap` (distribution summary, bytes): `DataLossSuspected`;
 * - `picket.cache.hits` (function counter): master blocks that found their master in the cache.
 */
public class PicketMetrics(
    private val picket: Picket,
    private val registry: MeterRegistry,
) : AutoCloseable {
    /** The epochs the gauges read; strongly held here, since Micrometer holds gauge state weakly. */
    private val epochs = ConcurrentHashMap<Pair<String, String>, AtomicLong>()
    private val hitCounters = ConcurrentHashMap.newKeySet<Pair<String, String>>()
    private val handle = picket.registerListener(::record)

    private fun record(event: PicketEvent) {
        when (event) {
            is PicketEvent.MasterResolved -> {
                counter("picket.resolutions", event.group, event.masterName).increment()
                event.configEpoch?.let { epoch(event.group, event.masterName, it) }
            }

            is PicketEvent.ResolutionFailed -> {
                counter(
                    "picket.resolution.failures",
                    event.group,
                    event.masterName,
                    "exception",
                    event.cause::class.simpleName.orEmpty(),
                ).increment()
            }

            is PicketEvent.SentinelError -> {
                counter("picket.sentinel.errors", event.group, event.masterName, "sentinel", "${event.sentinel}")
                    .increment()
            }

            is PicketEvent.SwitchMaster -> {
                counter("picket.switches", event.group, event.masterName).increment()
                event.configEpoch?.let { epoch(event.group, event.masterName, it) }
            }

            is PicketEvent.EntryInvalidated -> {
                counter("picket.invalidations", event.group, event.masterName).increment()
            }

            is PicketEvent.FailoverEnded -> {
                Timer
                    .builder("picket.failovers")
                    .tags(tags(event.group, event.masterName).and("outcome", event.outcome.name))
                    .register(registry)
                    .record(event.parkedFor)
                counter("picket.parked.blocks", event.group, event.masterName).increment(event.parkedBlocks.toDouble())
            }

            is PicketEvent.NewMasterServing -> {
                serving(event)
            }

            is PicketEvent.DataLossSuspected -> {
                lossSuspected(event)
            }

            else -> {}
        }
        if (event is PicketEvent.MasterResolved) cacheHits(event.group, event.masterName)
    }

    private fun serving(event: PicketEvent.NewMasterServing) {
        timer("picket.switch.first.write", event.group, event.masterName).record(event.sinceSwitch)
        event.sinceFailoverStart?.let { timer("picket.failover.first.write", event.group, event.masterName).record(it) }
    }

    private fun lossSuspected(event: PicketEvent.DataLossSuspected) {
        counter("picket.loss.suspected", event.group, event.masterName).increment()
        val gap = event.gapBytes ?: return
        DistributionSummary
            .builder("picket.loss.gap")
            .baseUnit("bytes")
            .tags(tags(event.group, event.masterName))
            .register(registry)
            .record(gap.toDouble())
    }

    /** Registers, once per master name, a counter that reads the cache hits of the group's status. */
    private fun cacheHits(
        group: String,
        masterName: String,
    ) {
        if (!hitCounters.add(group to masterName)) return
        FunctionCounter
            .builder("picket.cache.hits", picket) { hits(it, group, masterName) }
            .tags(tags(group, masterName))
            .register(registry)
    }

    // A removed group's counter stays at zero rather than failing the registry's scrape.
    private fun hits(
        picket: Picket,
        group: String,
        masterName: String,
    ): Double = runCatching { picket.status(group).cacheHits[masterName] }.getOrNull()?.toDouble() ?: 0.0

    private fun timer(
        name: String,
        group: String,
        masterName: String,
    ): Timer =
        Timer
            .builder(name)
            .tags(tags(group, masterName))
            .register(registry)

    private fun epoch(
        group: String,
        masterName: String,
        epoch: Long,
    ) {
        val holder =
            epochs.computeIfAbsent(group to masterName) {
                AtomicLong(epoch).also { value ->
                    Gauge
                        .builder("picket.config.epoch", value) { it.get().toDouble() }
                        .tags(tags(group, masterName))
                        .register(registry)
                }
            }
        holder.accumulateAndGet(epoch, ::maxOf)
    }

    private fun counter(
        name: String,
        group: String,
        masterName: String?,
        vararg more: String,
    ): Counter =
        Counter
            .builder(name)
            .tags(tags(group, masterName).and(*more))
            .register(registry)

    private fun tags(
        group: String,
        masterName: String?,
    ): Tags = Tags.of("group", group).let { if (masterName == null) it else it.and("masterName", masterName) }

    /** Stops recording; the meters stay in the registry. */
    override fun close() {
        handle.close()
    }
}
