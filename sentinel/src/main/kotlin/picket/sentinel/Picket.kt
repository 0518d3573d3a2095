package picket.sentinel

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.RedisFuture
import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.resource.ClientResources
import io.lettuce.core.sentinel.api.async.RedisSentinelAsyncCommands
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.future.await
import kotlinx.coroutines.future.future
import kotlinx.coroutines.job
import kotlinx.coroutines.runInterruptible
import kotlinx.coroutines.withContext
import picket.core.Address
import picket.core.Balancer
import picket.core.Balancers
import picket.core.Commands
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.PicketClosedException
import picket.core.PicketEvent
import picket.core.SentinelGroupUnknownException
import picket.core.SpecTarget
import picket.core.internal.picketCommands
import picket.sentinel.internal.PubSubAttachment
import picket.sentinel.internal.connections.CallerThreads
import picket.sentinel.internal.connections.Clients
import picket.sentinel.internal.connections.DataConnections
import picket.sentinel.internal.connections.OwnedResources
import picket.sentinel.internal.connections.PubSubConnections
import picket.sentinel.internal.connections.awaitClosed
import picket.sentinel.internal.connections.awaitCompletion
import picket.sentinel.internal.connections.commandTimer
import picket.sentinel.internal.events.AnnouncementListener
import picket.sentinel.internal.events.Announcements
import picket.sentinel.internal.events.EventBus
import picket.sentinel.internal.execution.BlockRunner
import picket.sentinel.internal.execution.DirectResolver
import picket.sentinel.internal.execution.Lease
import picket.sentinel.internal.execution.LeaseContext
import picket.sentinel.internal.execution.NodeResolver
import picket.sentinel.internal.execution.PipelineRun
import picket.sentinel.internal.execution.Tracked
import picket.sentinel.internal.execution.TransactionRun
import picket.sentinel.internal.execution.joined
import picket.sentinel.internal.resolution.DeclaredGroups
import picket.sentinel.internal.resolution.GroupRuntime
import picket.sentinel.internal.resolution.SentinelQueries
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException
import java.util.concurrent.CompletionStage
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import java.util.concurrent.atomic.AtomicBoolean
import java.util.function.Consumer
import java.util.function.Function

private val log = KotlinLogging.logger {}

/**
 * Declared sentinel groups, the resolver that follows their masters, and the connections blocks run on. The
 * top-level functions ([withConn], [setSentinelGroups], …) use [Picket.default]; tests and multi-tenant
 * applications create their own instance and [close] it.
 *
 * ```kotlin
 * Picket().use { picket ->
 *     picket.setSentinelGroups("group1" to SentinelGroup.of("10.0.0.1:26379", "10.0.0.2:26379"))
 *     val spec = ConnSpec(sentinelGroup = "group1", masterName = "mymaster")
 *     picket.withConn(spec) { incr("visits") }
 * }
 * ```
 *
 * Thread-safe; every method may be called from any thread or coroutine.
 *
 * ## Threads
 * An instance made without resources makes Lettuce resources of its own: 2 to 4 I/O threads (one per core, at
 * least 2, at most 4), 2 computation threads and a timer, each a daemon named `picket-…`, started on first use;
 * pub/sub connections add 2 I/O threads of their own. Java callers' blocks run on threads of the instance
 * (`picket-blocking-N`, one per block running). [close] ends them all before it returns.
 *
 * Many instances in one process (tenants, tests) can share one Lettuce [ClientResources] instead, and then add no
 * event loop of their own (pub/sub connections excepted):
 *
 * ```kotlin
 * val timer = HashedWheelTimer(10, TimeUnit.MILLISECONDS) // command timeouts fire within 10 ms of their deadline
 * val resources = DefaultClientResources.builder().timer(timer).build()
 * val tenants = names.associateWith { Picket(resources) }
 * // …
 * tenants.values.forEach(Picket::close)
 * resources.shutdown()            // the caller made them, the caller shuts them down…
 * timer.stop()                    // …and stops the timer, which Lettuce does not stop when it was given one
 * ```
 */
@Suppress("TooManyFunctions") // the facade: every capability has a Kotlin and a Java form here
public class Picket private constructor(
    given: ClientResources?,
    private val ownsResources: Boolean,
) : AutoCloseable {
    /** An instance with Lettuce resources of its own, shut down by [close]. */
    public constructor() : this(null, true)

    /**
     * An instance on [resources], shared with other instances or clients. The instance never shuts them down:
     * whoever made them does, after closing every instance that uses them. Command timeouts fire from their timer:
     * give it a 10 ms tick, as Picket's own has, or they fire up to Lettuce's default 100 ms late.
     */
    public constructor(resources: ClientResources) : this(resources, false)

    /** The 10 ms command timer of resources this instance makes (Lettuce does not stop a timer it was given). */
    private val timer = if (given == null) commandTimer() else null
    private val resources: ClientResources = given ?: OwnedResources.create(timer!!)
    private val clients = Clients(this.resources)
    private val callerThreads = CallerThreads()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket"))
    private val bus = EventBus(scope)
    private val connections = DataConnections(clients)
    private val queries = SentinelQueries(clients)
    private val groups = DeclaredGroups(::runtime, ::checkOpen)
    private val direct = DirectResolver(connections)
    private val runner = BlockRunner(::resolverFor, connections)
    private val pubSubConnections = PubSubConnections(this.resources)
    private val announcements = Announcements()
    private val closed = AtomicBoolean(false)

    /**
     * Declares exactly these sentinel groups: groups not named are removed, groups named are replaced in full
     * (subscriptions, connections and cached entries of the old declaration are closed).
     *
     * @throws InvalidSpecException if a name is blank; nothing is changed then.
     */
    public fun setSentinelGroups(groups: Map<String, SentinelGroup>): Unit = this.groups.set(groups)

    /** Declares exactly these sentinel groups; see [setSentinelGroups]. */
    public fun setSentinelGroups(vararg groups: Pair<String, SentinelGroup>): Unit = setSentinelGroups(groups.toMap())

    /**
     * Declares more sentinel groups beside the existing ones.
     *
     * @throws InvalidSpecException if a name is blank or already declared (use [setSentinelGroups] to replace);
     *   nothing is changed then.
     */
    public fun addSentinelGroups(groups: Map<String, SentinelGroup>): Unit = this.groups.add(groups)

    /** Declares more sentinel groups; see [addSentinelGroups]. */
    public fun addSentinelGroups(vararg groups: Pair<String, SentinelGroup>): Unit = addSentinelGroups(groups.toMap())

    /**
     * Removes a sentinel group, closing its subscriptions, its connections and its cached entries. Returns false if
     * it was not declared.
     */
    public fun removeSentinelGroup(name: String): Boolean = groups.remove(name)

    /** The names of the declared sentinel groups. */
    public fun sentinelGroups(): Set<String> = groups.names()

    /**
     * Runs [block] with the whole Redis command set on the node [spec] points at: the current master, a healthy
     * replica, or the direct host. A nested block on the same spec reuses the enclosing block's connection.
     *
     * ```kotlin
     * val count = picket.withConn(spec) { incr("orders:count") }
     * ```
     *
     * When the node refuses a command because it is the wrong one (READONLY on a demoted master; LOADING or
     * MASTERDOWN on a replica, which is then passed over) or cannot be connected to, the cached entry is dropped; the
     * block runs again (at most three times in all) only if nothing of it had run yet, or if [ConnSpec.idempotent] is
     * set and the error leaves it unknown whether it ran. Redis's replies about the node's state leave the block as
     * [picket.core.NodeStateException]s naming the node (`NotEnoughReplicasException` for NOREPLICAS, …).
     *
     * ## Cancellation
     * Cancelling the caller cancels the command awaited; a resolution shared with other callers goes on for them.
     *
     * @throws SentinelGroupUnknownException if the spec's group is not declared.
     * @throws picket.core.PicketException subtypes for resolution, connection and durability failures.
     */
    @OptIn(InternalPicketApi::class)
    public suspend fun <T> withConn(
        spec: ConnSpec,
        block: suspend Commands<String, String>.() -> T,
    ): T {
        checkOpen()
        return runner.execute(spec) { lease -> withLease(lease, block) }
    }

    /**
     * [withConn] for Java and other blocking callers: runs [block] with Lettuce's synchronous commands and returns
     * its result on the calling thread.
     *
     * ```java
     * Long n = picket.withConnBlocking(spec, redis -> redis.incr("visits"));
     * ```
     *
     * [block] runs on a thread of the instance while the caller waits; [close] interrupts it, and the caller then
     * gets [PicketClosedException].
     */
    public fun <T> withConnBlocking(
        spec: ConnSpec,
        block: Function<RedisCommands<String, String>, T>,
    ): T =
        joined {
            withConnAsyncInternal(spec) { lease ->
                runInterruptible(callerThreads.dispatcher) {
                    block.apply(Tracked.sync(lease))
                }
            }
        }

    /**
     * [withConn] for Java callers that compose futures: [block] gets Lettuce's asynchronous commands and returns a
     * stage; the future completes with its result, after the same resolution, retry and durability handling.
     */
    public fun <T> withConnAsync(
        spec: ConnSpec,
        block: Function<RedisAsyncCommands<String, String>, CompletionStage<T>>,
    ): CompletableFuture<T> = withConnAsyncInternal(spec) { lease -> block.apply(Tracked.async(lease)).await() }

    private fun <T> withConnAsyncInternal(
        spec: ConnSpec,
        run: suspend (Lease) -> T,
    ): CompletableFuture<T> {
        checkOpen()
        return scope.future { runner.execute(spec, run = run) }
    }

    /**
     * Resolves and connects every spec of [specs] now, in parallel (master verified with ROLE, replicas resolved
     * for replica specs), so that the first real block pays for nothing and a mistake shows at startup (as radix's
     * constructor does): throws the first spec's typed error, e.g. [picket.core.MasterNameUnknownException].
     */
    public suspend fun warmUp(specs: Collection<ConnSpec>) {
        checkOpen()
        coroutineScope { specs.map { spec -> async { withConn(spec) { ping() } } }.awaitAll() }
    }

    /** [warmUp] for Java: blocks until every spec is resolved and connected, or throws the first error. */
    public fun warmUpBlocking(specs: Collection<ConnSpec>): Unit =
        joined {
            checkOpen()
            scope.future { warmUp(specs) }
        }

    /**
     * A read/write pair for [spec]'s master name: [RedisPair.master] runs on the master, [RedisPair.replica] on one
     * healthy replica that [balancer] picks (random by default, as TwiceRedis does) and that is kept until the pair
     * is disconnected; with no healthy replica, reads run on the master if [fallbackToMaster], else fail.
     *
     * @throws InvalidSpecException for a direct spec: a pair follows a sentinel group.
     */
    @JvmOverloads
    public fun pair(
        spec: ConnSpec,
        balancer: Balancer = Balancers.random,
        fallbackToMaster: Boolean = true,
    ): RedisPair {
        checkOpen()
        when (val target = spec.target) {
            is SpecTarget.Direct -> throw InvalidSpecException(
                "a read/write pair follows a sentinel group; $target is direct",
            )

            is SpecTarget.Sentinel -> group(target.group)
        }
        return RedisPair(this, spec, balancer, fallbackToMaster)
    }

    /** Closes the connections of [spec]'s scope; the next block resolves afresh (a master entry, or the replicas). */
    internal fun disconnect(
        spec: ConnSpec,
        replica: Boolean,
    ) {
        spec.connectionScope?.let { connections.closeScope(it) }
        val target = spec.target as? SpecTarget.Sentinel ?: return
        val runtime = groups.find(target.group) ?: return
        if (replica) runtime.resolver.replicasChanged(target.masterName) else invalidate(spec)
    }

    /**
     * Runs [block] like [withConn], but on a connection of its own from the node's bounded pool
     * ([ConnSpec.poolSize], waiting at most [ConnSpec.poolWait], then [picket.core.PoolExhaustedException]): for
     * blocking commands (BLPOP, BLMOVE, XREAD BLOCK, WAIT, …), which would stall every block sharing the multiplexed
     * connection. A blocking command must return within the spec's command timeout, or it fails and its connection
     * is closed. A connection whose block failed is closed, never reused; the pools of a master are dropped when it
     * is switched away from.
     *
     * ```kotlin
     * val moved = picket.withDedicatedConn(spec) { blmove("jobs", "working", LMoveArgs.Builder.rightLeft(), 5.0) }
     * ```
     */
    @OptIn(InternalPicketApi::class)
    public suspend fun <T> withDedicatedConn(
        spec: ConnSpec,
        block: suspend Commands<String, String>.() -> T,
    ): T {
        checkOpen()
        return runner.execute(
            spec,
            dedicated = true,
        ) { lease -> lease.connection.picketCommands(lease.tracker).block() }
    }

    /** [withDedicatedConn] for Java and other blocking callers, with Lettuce's synchronous commands. */
    public fun <T> withDedicatedConnBlocking(
        spec: ConnSpec,
        block: Function<RedisCommands<String, String>, T>,
    ): T =
        joined {
            checkOpen()
            scope.future {
                runner.execute(spec, dedicated = true) { lease ->
                    runInterruptible(callerThreads.dispatcher) { block.apply(Tracked.sync(lease)) }
                }
            }
        }

    /**
     * Runs an optimistic transaction on a dedicated connection to the master: `WATCH` [watch], then [block] (its
     * reads run at once through [Transaction.redis]; [Transaction.multi] queues the writes), then `MULTI`, the
     * queued commands and `EXEC`. Returns [TransactionOutcome.Committed] with the replies, or
     * [TransactionOutcome.Aborted] if a watched key changed (nothing ran; run it again to retry).
     *
     * @throws picket.core.TransactionInterruptedException if the connection failed after the transaction began (a
     *   failover closes it): it says whether `EXEC` had been sent, i.e. whether the transaction may have run.
     */
    public suspend fun transaction(
        spec: ConnSpec,
        watch: List<String> = emptyList(),
        block: suspend Transaction.() -> Unit,
    ): TransactionOutcome {
        checkOpen()
        val run = TransactionRun(watch, block, { it.resolver.awaitSwitch(it) })
        return onDedicated(spec, run::run, run::failure)
    }

    /** [transaction] for Java: [block] runs on a worker thread and reads through [Transaction.sync]. */
    public fun transactionBlocking(
        spec: ConnSpec,
        watch: List<String>,
        block: Consumer<Transaction>,
    ): TransactionOutcome =
        joined {
            checkOpen()
            scope.future {
                transaction(spec, watch) { runInterruptible(callerThreads.dispatcher) { block.accept(this) } }
            }
        }

    /**
     * Sends the commands [block] adds ([Pipeline.add]) on a dedicated connection, [window] at a time, and returns
     * their replies in order. Not a transaction: use [transaction] for atomicity.
     *
     * ```kotlin
     * val replies = picket.pipeline(spec) { repeat(10_000) { i -> add { it.set("k$i", "$i") } } }
     * ```
     *
     * @throws picket.core.PipelineException if the connection failed part way, with the replies received so far.
     */
    public suspend fun pipeline(
        spec: ConnSpec,
        window: Int = DEFAULT_PIPELINE_WINDOW,
        block: suspend Pipeline.() -> Unit,
    ): List<Any?> {
        checkOpen()
        if (window < 1) throw InvalidSpecException("pipeline window is $window, must be >= 1")
        val run = PipelineRun(window, block, { it.resolver.awaitSwitch(it) })
        return onDedicated(spec, run::run, run::failure)
    }

    /** Runs [run] on a dedicated connection; a failure is thrown as [failure] tells (what had been sent). */
    private suspend fun <T> onDedicated(
        spec: ConnSpec,
        run: suspend (Lease) -> T,
        failure: (ConnSpec, Exception) -> Exception,
    ): T =
        try {
            runner.execute(spec, dedicated = true, run = run)
        } catch (e: CancellationException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            throw failure(spec, e)
        }

    /** [pipeline] for Java: sends [commands] in order, [window] at a time, and returns their replies. */
    @JvmOverloads
    public fun pipelineBlocking(
        spec: ConnSpec,
        commands: List<Function<RedisAsyncCommands<String, String>, RedisFuture<*>>>,
        window: Int = DEFAULT_PIPELINE_WINDOW,
    ): List<Any?> =
        joined {
            checkOpen()
            scope.future { pipeline(spec, window) { commands.forEach { add(it) } } }
        }

    /** [joined] for this instance: a failure once it is closed is [PicketClosedException]. */
    private fun <T> joined(start: () -> CompletableFuture<T>): T = joined({ closed.get() }, start)

    /**
     * Registers [listener] for every event from now on; closing the returned handle unregisters it.
     */
    public fun registerListener(listener: PicketListener): AutoCloseable = bus.register(listener)

    /**
     * The events from the moment of collection on, as a cold flow; collecting registers a listener. Events wait in an
     * unbounded buffer for a slow collector: none is dropped.
     */
    public val events: Flow<PicketEvent>
        get() =
            callbackFlow {
                val handle = bus.register { trySend(it) }
                awaitClose { handle.close() }
            }.buffer(Channel.UNLIMITED)

    /**
     * Checks `ROLE` of every cached master of every group and drops those that fail or are no longer master, so that
     * the next block resolves them again. Call it on a schedule as a safety net for missed announcements; a refused
     * connection drops that entry and the sweep goes on with the others.
     *
     * @return what was dropped.
     */
    public suspend fun removeInvalidResolvedMasterSpecs(): List<PicketEvent.EntryInvalidated> =
        groups.all().flatMap { it.resolver.removeInvalid() }

    /** [removeInvalidResolvedMasterSpecs] for Java. */
    public fun removeInvalidResolvedMasterSpecsAsync(): CompletableFuture<List<PicketEvent.EntryInvalidated>> =
        scope.future { removeInvalidResolvedMasterSpecs() }

    /**
     * Drops the cached master of [spec] by hand, so that the next block resolves it again. Returns false if nothing
     * was cached for it.
     */
    public fun invalidate(spec: ConnSpec): Boolean {
        val target = spec.target as? SpecTarget.Sentinel ?: return false
        val resolver = group(target.group).resolver
        val entry = resolver.state.masters[target.masterName] ?: return false
        return resolver.invalidate(target.masterName, entry.address, "invalidated by hand") != null
    }

    /**
     * A snapshot of a declared group.
     *
     * @throws SentinelGroupUnknownException if it is not declared.
     */
    public fun status(group: String): GroupStatus = group(group).status()

    /**
     * The declaration of [group], as given to [setSentinelGroups] or [addSentinelGroups]: its sentinels, credentials,
     * timeouts, TLS and address mapping (its `toString()` hides the password).
     *
     * @throws SentinelGroupUnknownException if it is not declared.
     */
    public fun sentinelGroup(group: String): SentinelGroup = group(group).config

    /** [picket.sentinel.internal.askSentinel]: the cross-module hooks are there, out of the public facade. */
    internal suspend fun <T> sentinelQuery(
        group: String,
        sentinel: Address,
        block: suspend (RedisSentinelAsyncCommands<String, String>) -> T,
    ): T {
        checkOpen()
        return queries.on(sentinel, group(group).config, block)
    }

    /** [picket.sentinel.internal.openPubSub]. */
    internal suspend fun pubSubAttachment(
        spec: ConnSpec,
        onClosed: () -> Unit,
    ): PubSubAttachment {
        checkOpen()
        val (address, key) = runner.execute(spec.copy(durability = Durability.None)) { it.address to it.key }
        return PubSubAttachment(address, pubSubConnections.open(key, spec, onClosed))
    }

    /** [picket.sentinel.internal.withConnOnEpoch]. */
    internal suspend fun <T> onEpoch(
        spec: ConnSpec,
        block: suspend Commands<String, String>.(epoch: Long?) -> T,
    ): T {
        checkOpen()
        return runner.execute(spec) { lease -> withLease(lease) { block(lease.master?.configEpoch) } }
    }

    /** [picket.sentinel.internal.registerAnnouncementListener]. */
    internal fun announcementListener(listener: AnnouncementListener): AutoCloseable = announcements.register(listener)

    /** [picket.sentinel.internal.closeConnections]. */
    internal fun closeScope(connectionScope: String): Int = connections.closeScope(connectionScope)

    /** Runs [block] on [lease]'s connection, known to nested blocks on the same spec (they reuse it). */
    private suspend fun <T> withLease(
        lease: Lease,
        block: suspend Commands<String, String>.() -> T,
    ): T {
        val commands = lease.connection.picketCommands(lease.tracker)
        val context = (currentCoroutineContext()[LeaseContext] ?: LeaseContext(emptyMap())).with(lease)
        return withContext(context) { commands.block() }
    }

    /**
     * Closes every subscription and connection and ends every thread the instance started; blocks running now fail
     * (Java callers waiting in a `…Blocking` method get [PicketClosedException]), later ones get
     * [PicketClosedException]. Resources given to the constructor are left running. Returns once all is closed, or
     * after a few seconds at most for each step (a Java block that ignores interruption is not waited for longer).
     *
     * ## Pitfalls
     * It waits for the instance's own coroutines and threads: called from one of them (a [PicketListener], a Java
     * block, a callback of a future this instance returned) it waits for itself, about 2 s per step, before going
     * on. Close from the application's own thread, or hand it over (`thread { picket.close() }`).
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        groups.closeAll()
        bus.close()
        // First what runs (blocks, subscriptions, resolutions), so that the connections they close are closed before
        // the clients are shut down: a client closes every connection it still holds, a second close for those.
        scope.cancel()
        awaitCompletion(scope, SHUTDOWN_SECONDS)
        callerThreads.shutdown(SHUTDOWN_SECONDS)
        awaitClosed(connections.closeEverything(), SHUTDOWN_SECONDS)
        pubSubConnections.shutdown(SHUTDOWN_SECONDS)
        clients.shutdown(SHUTDOWN_SECONDS)
        if (ownsResources) {
            resources
                .shutdown(0, SHUTDOWN_SECONDS, TimeUnit.SECONDS)
                .awaitUninterruptibly(SHUTDOWN_SECONDS, TimeUnit.SECONDS)
            timer?.stop()
        }
        log.debug { "picket instance closed" }
    }

    /** Who finds the node for [target]: the direct resolver, or the declared group's. */
    private fun resolverFor(target: SpecTarget): NodeResolver =
        when (target) {
            is SpecTarget.Direct -> direct
            is SpecTarget.Sentinel -> group(target.group).blocks
        }

    private fun group(name: String): GroupRuntime = groups.get(name)

    private fun runtime(
        name: String,
        config: SentinelGroup,
    ): GroupRuntime = GroupRuntime(name, config, clients, queries, connections, bus, scope, announcements)

    private fun checkOpen() {
        if (closed.get()) throw PicketClosedException()
    }

    public companion object {
        private const val SHUTDOWN_SECONDS = 2L

        /** Commands a [pipeline] writes before awaiting their replies, unless told otherwise: 1,000. */
        public const val DEFAULT_PIPELINE_WINDOW: Int = 1_000

        /** The instance behind the top-level functions; created on first use, closed at JVM exit. */
        @JvmStatic
        public val default: Picket by lazy {
            Picket().also { instance ->
                Runtime.getRuntime().addShutdownHook(Thread(instance::close, "picket-shutdown"))
            }
        }
    }
}
