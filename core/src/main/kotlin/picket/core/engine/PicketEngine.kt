package picket.core.engine

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.resource.ClientResources
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.Flow
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.PicketClosedException
import picket.core.PicketEvent
import picket.core.PicketListener
import picket.core.SpecTarget
import picket.core.internal.connections.Clients
import picket.core.internal.connections.DataConnections
import picket.core.internal.connections.OwnedResources
import picket.core.internal.connections.PubSubConnections
import picket.core.internal.connections.awaitClosed
import picket.core.internal.connections.awaitCompletion
import picket.core.internal.connections.commandTimer
import picket.core.internal.events.EventBus
import picket.core.internal.execution.BlockRunner
import picket.core.internal.execution.DirectResolver
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.Executor
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/**
 * What a Picket instance runs on, whatever finds its nodes: Lettuce resources and clients, the connection cache and
 * pools, the block runner, events and listeners, how Java forms run ([java]) and where the user's handlers run
 * ([handlers]), and the order things are closed in.
 * A target kind other than direct addresses is served by the [NodeResolver] its module registers with [serve]
 * (the sentinel module registers sentinel groups). The ways a block runs are [blocks].
 *
 * For Picket's own modules: the facade (`picket.core.Picket`) is what users hold.
 */
@InternalPicketApi
public class PicketEngine(
    given: ClientResources?,
    handlerExecutor: Executor? = null,
) {
    private val ownsResources = given == null

    /** The 10 ms command timer of resources this engine makes (Lettuce does not stop a timer it was given). */
    private val timer = if (given == null) commandTimer() else null

    /** The Lettuce resources every connection of the instance uses. */
    public val resources: ClientResources = given ?: OwnedResources.create(timer!!)

    /** Lettuce clients by keep-alive and TLS settings, for data and sentinel connections. */
    public val clients: Clients = Clients(resources)

    /** The coroutines of the instance (resolutions, subscriptions, Java callers' blocks); cancelled by [close]. */
    public val scope: CoroutineScope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket"))

    /** The shared data connections and the dedicated pools, by node and credentials. */
    public val connections: DataConnections = DataConnections(clients)

    /**
     * Where code of the user's that no caller's thread waits for runs (listeners, an async transaction's block, the
     * handlers modules call): the executor the user gave, or a view of kotlinx's shared IO threads allowing
     * [DEFAULT_HANDLERS] at once for this instance (a view, so not held to the IO pool's own cap of 64, and no thread
     * of the instance's own to start or end: a thousand instances on shared resources add no thread).
     */
    public val handlers: CoroutineDispatcher =
        handlerExecutor?.asCoroutineDispatcher() ?: Dispatchers.IO.limitedParallelism(DEFAULT_HANDLERS)
    private val pubSubConnections = PubSubConnections(resources)
    private val direct = DirectResolver(connections)
    private val resolvers = ConcurrentHashMap<Class<out SpecTarget>, (SpecTarget) -> NodeResolver>()
    internal val runner = BlockRunner(::resolverFor, connections)
    private val closed = AtomicBoolean(false)

    /** Where the instance's events go to its listeners, who are called on [handlers]. */
    public val events: EventBus = EventBus(scope, handlers)

    /** How every module's Java forms run: blocking calls on the caller's thread, async ones as futures. */
    public val java: JavaCalls = JavaCalls(scope) { closed.get() }

    /** The blocks, dedicated blocks, transactions and pipelines of the instance, in their Kotlin and Java forms. */
    public val blocks: Blocks = Blocks(this)

    /**
     * Serves targets of [kind] with the resolver [lookup] returns for each (it throws the target's typed error, e.g.
     * an undeclared group). One registration per kind; direct targets are the engine's own.
     */
    public fun <T : SpecTarget> serve(
        kind: Class<T>,
        lookup: (T) -> NodeResolver,
    ) {
        require(kind != SpecTarget.Direct::class.java) { "direct targets are served by the engine" }
        @Suppress("UNCHECKED_CAST")
        val previous = resolvers.putIfAbsent(kind, lookup as (SpecTarget) -> NodeResolver)
        check(previous == null) { "${kind.simpleName} targets are already served" }
    }

    /** Registers [listener] for every event from now on; closing the handle unregisters it. */
    public fun registerListener(listener: PicketListener): AutoCloseable = events.register(listener)

    /** The events from the moment of collection on, as a cold flow that buffers for a slow collector. */
    public fun eventFlow(): Flow<PicketEvent> = events.asFlow()

    /**
     * For pub/sub: resolves [spec] as a block would and opens a pub/sub connection of the caller's own to that node;
     * [onClosed] runs once when it closes for any reason.
     */
    public suspend fun openPubSub(
        spec: ConnSpec,
        onClosed: () -> Unit,
    ): PubSubAttachment {
        checkOpen()
        val (address, key) = runner.execute(spec.copy(durability = Durability.None)) { it.address to it.key }
        return PubSubAttachment(address, pubSubConnections.open(key, spec, onClosed))
    }

    /** Closes the connections of specs with [connectionScope]; returns how many shared connections were closed. */
    public fun closeScope(connectionScope: String): Int = connections.closeScope(connectionScope)

    /** @throws PicketClosedException once [close] began. */
    public fun checkOpen() {
        if (closed.get()) throw PicketClosedException()
    }

    /**
     * Closes everything, in order: [first] (what a mode runs: subscriptions, sweeps), then listeners; then it
     * cancels the coroutines and closes the connections at once (Java callers block on their own threads, which
     * cancellation does not reach), waits for the coroutines and the connections, then closes the clients and the
     * resources it made, waiting at most [seconds] for each step. Returns false if it was closed already.
     */
    public fun close(
        seconds: Long,
        first: () -> Unit,
    ): Boolean {
        if (!closed.compareAndSet(false, true)) return false
        first()
        events.close()
        // First what runs (blocks, subscriptions, resolutions), so that the connections they close are closed before
        // the clients are shut down: a client closes every connection it still holds, a second close for those.
        scope.cancel()
        java.cancelSuspended()
        // Java callers block in a command on their own threads, which cancellation does not reach: closing the
        // connections now fails their commands at once, and from now on no connection is made (a Java call is not
        // one of the coroutines awaited below: its retry finds PicketClosedException). Closed again once all has
        // stopped, for a connect that was under way.
        val closing = connections.closeEverything()
        awaitCompletion(scope, seconds)
        awaitClosed(CompletableFuture.allOf(closing, connections.closeEverything()), seconds)
        pubSubConnections.shutdown(seconds)
        clients.shutdown(seconds)
        if (ownsResources) {
            resources
                .shutdown(0, seconds, TimeUnit.SECONDS)
                .awaitUninterruptibly(seconds, TimeUnit.SECONDS)
            timer?.stop()
        }
        log.debug { "picket instance closed" }
        return true
    }

    /** Who finds the node for [target]: the direct resolver, or the one registered for its kind. */
    private fun resolverFor(target: SpecTarget): NodeResolver =
        when (target) {
            is SpecTarget.Direct -> {
                direct
            }

            else -> {
                resolvers[target.javaClass]?.invoke(target)
                    ?: throw InvalidSpecException(
                        "nothing serves ${target::class.simpleName} targets ($target): " +
                            "is its module (picket-sentinel) on the classpath?",
                    )
            }
        }

    public companion object {
        /** How many of the user's handlers may run at once on the default [handlers]. */
        public const val DEFAULT_HANDLERS: Int = 512
    }
}
