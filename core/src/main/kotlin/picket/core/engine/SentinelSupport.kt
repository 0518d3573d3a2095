package picket.core.engine

import io.github.oshai.kotlinlogging.KotlinLogging
import picket.core.GroupStatus
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.PicketEvent
import picket.core.SentinelGroup
import picket.core.SentinelGroupUnknownException
import picket.core.SpecTarget
import java.util.ServiceLoader

private val log = KotlinLogging.logger {}

/**
 * The sentinel groups of one `Picket` instance, as the `picket-sentinel` module implements them: declarations, the
 * resolver that follows their masters (which it registers on the engine for [SpecTarget.Sentinel] targets), status
 * and cache control. A `Picket` finds the implementation through [Factory] with Java's [ServiceLoader]; without
 * `picket-sentinel` on the classpath, declaring a group fails with a typed error saying so.
 */
@InternalPicketApi
public interface SentinelSupport {
    /** Declares exactly [groups]: the others are removed, those named replaced in full. */
    public fun set(groups: Map<String, SentinelGroup>)

    /** Declares [groups] beside the existing ones; none may be declared already. */
    public fun add(groups: Map<String, SentinelGroup>)

    /** Removes [name]; false if it was not declared. */
    public fun remove(name: String): Boolean

    /** The declared group names. */
    public fun names(): Set<String>

    /** A snapshot of [group]; [SentinelGroupUnknownException] if it is not declared. */
    public fun status(group: String): GroupStatus

    /** The declaration of [group]; [SentinelGroupUnknownException] if it is not declared. */
    public fun declaration(group: String): SentinelGroup

    /** Drops the cached master of [target]; false if none was cached. */
    public fun invalidate(target: SpecTarget.Sentinel): Boolean

    /** Forgets the cached replicas of [target]'s master name, if its group is declared. */
    public fun replicasChanged(target: SpecTarget.Sentinel)

    /** Checks `ROLE` of every cached master of every group and drops those that fail or are no longer master. */
    public suspend fun removeInvalid(): List<PicketEvent.EntryInvalidated>

    /** Closes every group: the instance closes. */
    public fun closeAll()

    /** Makes the sentinel support of one engine; listed in `META-INF/services` by `picket-sentinel`. */
    public fun interface Factory {
        /** The support for [engine], its resolver registered on it. */
        public fun create(engine: PicketEngine): SentinelSupport
    }

    public companion object {
        /**
         * The support `picket-sentinel` provides for [engine] (looked for with core's class loader, then the
         * thread's context class loader, for containers that load the modules apart), or one that refuses every
         * declaration. A provider that cannot be loaded is an error, not an absence.
         */
        public fun load(engine: PicketEngine): SentinelSupport {
            val loaders = listOfNotNull(Factory::class.java.classLoader, Thread.currentThread().contextClassLoader)
            val factory =
                loaders.distinct().firstNotNullOfOrNull {
                    ServiceLoader
                        .load(
                            Factory::class.java,
                            it,
                        ).firstOrNull()
                }
            if (factory == null) {
                log.info { "picket-sentinel is not on the classpath: this Picket serves direct specs only" }
                return Absent
            }
            log.debug { "sentinel groups from ${factory::class.java.name}" }
            return factory.create(engine)
        }
    }

    /** Without `picket-sentinel`: no group is declared, and none can be. */
    private object Absent : SentinelSupport {
        private const val MISSING = "sentinel groups need picket-sentinel on the classpath"

        override fun set(groups: Map<String, SentinelGroup>): Unit = throw InvalidSpecException(MISSING)

        override fun add(groups: Map<String, SentinelGroup>): Unit = throw InvalidSpecException(MISSING)

        override fun remove(name: String): Boolean = false

        override fun names(): Set<String> = emptySet()

        override fun status(group: String): GroupStatus = throw SentinelGroupUnknownException(group, emptySet())

        override fun declaration(group: String): SentinelGroup = throw SentinelGroupUnknownException(group, emptySet())

        override fun invalidate(target: SpecTarget.Sentinel): Boolean = false

        override fun replicasChanged(target: SpecTarget.Sentinel): Unit = Unit

        override suspend fun removeInvalid(): List<PicketEvent.EntryInvalidated> = emptyList()

        override fun closeAll(): Unit = Unit
    }
}
