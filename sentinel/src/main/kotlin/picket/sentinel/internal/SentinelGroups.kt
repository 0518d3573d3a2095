package picket.sentinel.internal

import io.lettuce.core.sentinel.api.async.RedisSentinelAsyncCommands
import picket.core.Address
import picket.core.GroupStatus
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SpecTarget
import picket.core.engine.PicketEngine
import picket.core.engine.SentinelSupport
import picket.sentinel.internal.failover.Announcements
import picket.sentinel.internal.resolution.DeclaredGroups
import picket.sentinel.internal.resolution.GroupRuntime
import picket.sentinel.internal.resolution.SentinelQueries

/**
 * The sentinel groups of one `Picket` instance: what it declares ([DeclaredGroups], each a [GroupRuntime] with its
 * resolver, subscriptions and sweeps), the questions to their sentinels and the announcements they publish. It
 * registers the groups' resolvers on [engine] for sentinel targets.
 */
internal class SentinelGroups(
    private val engine: PicketEngine,
) : SentinelSupport {
    private val queries = SentinelQueries(engine.clients)

    /** Every announcement the group subscriptions receive, for the monitor. */
    val announcements = Announcements()
    private val groups =
        DeclaredGroups(
            { name, config -> GroupRuntime(name, config, engine, queries, announcements) },
            engine::checkOpen,
        )

    init {
        engine.serve(SpecTarget.Sentinel::class.java) { target -> groups.get(target.group).blocks }
    }

    override fun set(groups: Map<String, SentinelGroup>) = this.groups.set(groups)

    override fun add(groups: Map<String, SentinelGroup>) = this.groups.add(groups)

    override fun remove(name: String): Boolean = groups.remove(name)

    override fun names(): Set<String> = groups.names()

    override fun status(group: String): GroupStatus = groups.get(group).status()

    override fun declaration(group: String): SentinelGroup = groups.get(group).config

    override fun invalidate(target: SpecTarget.Sentinel): Boolean {
        val resolver = groups.get(target.group).resolver
        val entry = resolver.state.masters[target.masterName] ?: return false
        return resolver.invalidate(target.masterName, entry.address, "invalidated by hand") != null
    }

    override fun replicasChanged(target: SpecTarget.Sentinel) {
        groups.find(target.group)?.resolver?.replicasChanged(target.masterName)
    }

    override suspend fun removeInvalid(): List<PicketEvent.EntryInvalidated> =
        groups.all().flatMap { it.resolver.removeInvalid() }

    override fun closeAll() = groups.closeAll()

    /** Runs [block] on a short-lived connection to [sentinel] with [group]'s settings (for the monitor). */
    suspend fun <T> ask(
        group: String,
        sentinel: Address,
        block: suspend (RedisSentinelAsyncCommands<String, String>) -> T,
    ): T {
        engine.checkOpen()
        return queries.on(sentinel, groups.get(group).config, block)
    }

    /** Found by `Picket` through `META-INF/services`: every instance gets its sentinel groups from here. */
    class Provider : SentinelSupport.Factory {
        override fun create(engine: PicketEngine): SentinelSupport = SentinelGroups(engine)
    }
}
