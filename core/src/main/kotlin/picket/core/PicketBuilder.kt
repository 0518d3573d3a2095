package picket.core

import io.lettuce.core.resource.ClientResources
import java.util.concurrent.Executor

/**
 * Builds a [Picket] with its Lettuce resources, sentinel groups and listeners in one statement, for Java callers
 * (Kotlin callers may do the same with the constructor and `apply`). Get one from [Picket.builder].
 *
 * ```java
 * Picket picket = Picket.builder()
 *         .clientResources(resources)                  // optional: Lettuce's metrics, tracing, event loops
 *         .handlerExecutor(executor)                   // optional: where listeners and handlers run
 *         .sentinelGroup("main", SentinelGroup.builder().sentinel("10.0.0.1", 26379).build())
 *         .listener(event -> log.info("{}", event))
 *         .build();
 * ```
 *
 * Not thread-safe: build on one thread. The built instance is the caller's to [Picket.close].
 */
public class PicketBuilder internal constructor() {
    private var resources: ClientResources? = null
    private var handlers: Executor? = null
    private val groups = LinkedHashMap<String, SentinelGroup>()
    private val listeners = mutableListOf<PicketListener>()

    /**
     * Runs the instance on [resources] (see `Picket(ClientResources)`): the instance never shuts them down; whoever
     * made them does, after closing it. Without this, the instance makes and owns resources of its own.
     */
    public fun clientResources(resources: ClientResources): PicketBuilder = apply { this.resources = resources }

    /**
     * Runs the Java code Picket calls itself on [executor]: listeners, an async transaction's block, and the modules'
     * Java workers, list-listener and bus handlers. Without it they run on kotlinx's shared IO threads, at most 512
     * at once per instance (a view of the pool, not held to its cap of 64). The instance never shuts [executor] down;
     * closing it interrupts handlers still running. Blocking calls (`blocking()`) never use it: they run on the
     * caller's thread.
     */
    public fun handlerExecutor(executor: Executor): PicketBuilder = apply { this.handlers = executor }

    /**
     * Declares [group] as [name] when the instance is built.
     *
     * @throws InvalidSpecException if [name] is blank or already given to this builder.
     */
    public fun sentinelGroup(
        name: String,
        group: SentinelGroup,
    ): PicketBuilder =
        apply {
            if (name.isBlank()) throw InvalidSpecException("sentinel group name is blank")
            if (name in groups) throw InvalidSpecException("sentinel group '$name' is given twice to the builder")
            groups[name] = group
        }

    /** Declares every group of [groups] (by name) when the instance is built; see [sentinelGroup]. */
    public fun sentinelGroups(groups: Map<String, SentinelGroup>): PicketBuilder =
        apply { groups.forEach { (name, group) -> sentinelGroup(name, group) } }

    /** Registers [listener] when the instance is built, before its groups are declared: it sees every event. */
    public fun listener(listener: PicketListener): PicketBuilder = apply { listeners += listener }

    /**
     * A new instance with the resources, listeners and groups given. If declaring the groups fails, the instance is
     * closed before the error is thrown: nothing is left running.
     *
     * @throws InvalidSpecException if a group cannot be declared (without `picket-sentinel` on the classpath, any).
     */
    public fun build(): Picket {
        val picket = Picket(resources, handlers)
        try {
            listeners.forEach { picket.registerListener(it) }
            if (groups.isNotEmpty()) picket.setSentinelGroups(LinkedHashMap(groups))
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Throwable,
        ) {
            picket.close()
            throw e
        }
        return picket
    }

    override fun toString(): String =
        "PicketBuilder(resources=${resources != null}, handlers=${handlers != null}, groups=${groups.keys}, " +
            "listeners=${listeners.size})"
}
