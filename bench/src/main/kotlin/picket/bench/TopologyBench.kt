package picket.bench

import picket.testkit.Topology

/** What every benchmark on the shared topology is given: the topology, the ways to watch it, settings, progress. */
class BenchContext(
    val topology: Topology,
    /** A plain client for looking at nodes (client lists, command counts). */
    val inspect: Inspect,
    /** The sentinels' events, the clock of every failover measured. */
    val events: SentinelEvents,
    val settings: Settings,
    val progress: (String) -> Unit,
)

/** A benchmark that runs on the shared topology's one master name. */
abstract class TopologyBench(
    context: BenchContext,
) {
    protected val topology: Topology = context.topology
    protected val inspect: Inspect = context.inspect
    protected val events: SentinelEvents = context.events
    protected val settings: Settings = context.settings
    protected val progress: (String) -> Unit = context.progress
    protected val masterName: String = topology.masterNames.single()
}
