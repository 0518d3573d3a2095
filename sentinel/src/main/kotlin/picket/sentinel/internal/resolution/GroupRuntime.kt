package picket.sentinel.internal.resolution

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.GroupStatus
import picket.core.SentinelGroup
import picket.core.engine.PicketEngine
import picket.sentinel.internal.failover.Announcements
import picket.sentinel.internal.failover.SentinelWatcher

/** A declared sentinel group while it is declared: its state, resolver, subscriptions and optional sweeps. */
internal class GroupRuntime(
    val name: String,
    val config: SentinelGroup,
    engine: PicketEngine,
    queries: SentinelQueries,
    announcements: Announcements = Announcements(),
) {
    private val connections = engine.connections
    private val job = SupervisorJob(engine.scope.coroutineContext[Job])
    private val scope = CoroutineScope(engine.scope.coroutineContext + job)
    val resolver = GroupResolver(GroupState(name, config), queries, connections, engine.events, scope)
    private val watcher = SentinelWatcher(resolver, engine.clients, queries, engine.events, scope, announcements)

    /**
     * Where blocks on this group's master names run, for the block runner; "declared" is the job's state (every
     * block asks it: `scope.isActive` would search the scope's context each time).
     */
    val blocks = SentinelResolver(name, config, resolver, connections, engine.events, job::isActive)

    init {
        resolver.onSentinelsLearnt = watcher::learnt
        watcher.start()
        config.revalidateEvery?.let { period ->
            scope.launch {
                while (isActive) {
                    delay(period.toMillis())
                    resolver.removeInvalid()
                    resolver.revalidate()
                }
            }
        }
    }

    fun status(): GroupStatus {
        val state = resolver.state
        return GroupStatus(
            name = name,
            sentinels = state.orderedSentinels(),
            lastGoodSentinel = state.lastGood,
            subscriptions = watcher.status(),
            masters = state.masters.mapValues { it.value.address },
            replicas = state.replicas.toMap(),
            resolutionRounds = state.rounds.get(),
            epochs = state.epochs.toMap(),
            cacheHits = state.cacheHits(),
        )
    }

    /** The nodes this group has cached or used: masters, replicas and masters it knew before. */
    fun addresses(): Set<Address> {
        val state = resolver.state
        return (
            state.masters.values.map { it.address } + state.replicas.values.flatten() +
                state.lastEntries.values.map { it.address }
        ).toSet()
    }

    /**
     * Stops the subscriptions and sweeps and closes the connections to this group's nodes, except those in
     * [stillUsed] (connections are shared: another group may point at the same nodes).
     */
    fun close(stillUsed: Set<Address> = emptySet()) {
        watcher.stop()
        scope.cancel()
        (addresses() - stillUsed).forEach { connections.closeAll(it) }
    }
}
