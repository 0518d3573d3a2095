package picket.sentinel

import io.micrometer.core.instrument.Counter
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.Timer
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
 * - `picket.config.epoch` (gauge): the Sentinel config-epoch followed for the master name.
 */
public class PicketMetrics(
    picket: Picket,
    private val registry: MeterRegistry,
) : AutoCloseable {
    /** The epochs the gauges read; strongly held here, since Micrometer holds gauge state weakly. */
    private val epochs = ConcurrentHashMap<Pair<String, String>, AtomicLong>()
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

            else -> {}
        }
    }

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
