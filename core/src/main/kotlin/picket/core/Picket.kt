package picket.core

import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.resource.ClientResources
import kotlinx.coroutines.flow.Flow
import picket.core.engine.PicketEngine
import picket.core.engine.SentinelSupport
import java.util.concurrent.Executor

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
 * pub/sub connections add 2 I/O threads of their own. [close] ends them all before it returns. Java callers' blocks
 * run on the callers' own threads ([blocking]); listeners and the other code of the user's that Picket calls run on
 * the executor given to [builder], or else on kotlinx's shared IO threads.
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
public class Picket private constructor(
    /** What every mode shares (core): resources, connections, the block runner, events. Not for Java. */
    @get:JvmSynthetic internal val engine: PicketEngine,
) : AutoCloseable {
    /** An instance with Lettuce resources of its own, shut down by [close]. */
    public constructor() : this(PicketEngine(null))

    /**
     * An instance on [resources], shared with other instances or clients. The instance never shuts them down:
     * whoever made them does, after closing every instance that uses them. Command timeouts fire from their timer:
     * give it a 10 ms tick, as Picket's own has, or they fire up to Lettuce's default 100 ms late.
     */
    public constructor(resources: ClientResources) : this(PicketEngine(resources))

    /** The builder's instance: on [resources] if given, running Java handlers and listeners on [handlers] if given. */
    internal constructor(resources: ClientResources?, handlers: Executor?) : this(PicketEngine(resources, handlers))

    private val blocks = engine.blocks

    /**
     * The declared sentinel groups and their resolver, from `picket-sentinel` (which registers it on the engine). If
     * loading them fails, what the engine started is closed before the constructor throws.
     */
    @get:JvmSynthetic
    internal val sentinel: SentinelSupport =
        try {
            SentinelSupport.load(engine)
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Throwable,
        ) {
            engine.close(SHUTDOWN_SECONDS) {}
            throw e
        }

    private val blocking = BlockingPicket(this)
    private val async = AsyncPicket(this)

    /**
     * Declares exactly these sentinel groups: groups not named are removed, groups named are replaced in full
     * (subscriptions, connections and cached entries of the old declaration are closed).
     *
     * @throws InvalidSpecException if a name is blank; nothing is changed then.
     */
    public fun setSentinelGroups(groups: Map<String, SentinelGroup>): Unit = sentinel.set(groups)

    /** Declares exactly these sentinel groups; see [setSentinelGroups]. */
    @JvmSynthetic
    public fun setSentinelGroups(vararg groups: Pair<String, SentinelGroup>): Unit = setSentinelGroups(groups.toMap())

    /**
     * Declares more sentinel groups beside the existing ones.
     *
     * @throws InvalidSpecException if a name is blank or already declared (use [setSentinelGroups] to replace);
     *   nothing is changed then.
     */
    public fun addSentinelGroups(groups: Map<String, SentinelGroup>): Unit = sentinel.add(groups)

    /** Declares more sentinel groups; see [addSentinelGroups]. */
    @JvmSynthetic
    public fun addSentinelGroups(vararg groups: Pair<String, SentinelGroup>): Unit = addSentinelGroups(groups.toMap())

    /**
     * Declares the sentinel group of a `redis-sentinel://` [uri] ([SentinelUri]) as [name], beside the existing ones,
     * and returns the spec of its master: `ConnSpec orders = picket.declare("orders", "redis-sentinel://…#orders")`.
     *
     * @throws InvalidSpecException if the URI is malformed (naming the part, never a password) or [name] is blank or
     *   already declared; nothing is changed then.
     */
    public fun declare(
        name: String,
        uri: String,
    ): ConnSpec =
        SentinelUri.parse(uri).let { parsed ->
            parsed.spec(name).also { addSentinelGroups(name to parsed.group) }
        }

    /**
     * Removes a sentinel group, closing its subscriptions, its connections and its cached entries. Returns false if
     * it was not declared.
     */
    public fun removeSentinelGroup(name: String): Boolean = sentinel.remove(name)

    /** The names of the declared sentinel groups. */
    public fun sentinelGroups(): Set<String> = sentinel.names()

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
     * @throws SentinelGroupUnknownException if the spec's group is not declared ([InvalidSpecException] for any
     *   sentinel spec when picket-sentinel is not on the classpath).
     * @throws picket.core.PicketException subtypes for resolution, connection and durability failures.
     */
    @JvmSynthetic
    public suspend fun <T> withConn(
        spec: ConnSpec,
        block: suspend Commands<String, String>.() -> T,
    ): T = blocks.withConn(spec, block)

    /**
     * [withConn] with keys and values in [codec]: `ByteArrayCodec.INSTANCE` for byte arrays, or a codec of your own
     * for serialized objects. The block runs on the same connection as every other block on that node (a command
     * carries its codec), with the same resolution, retries and durability handling.
     *
     * ```kotlin
     * val avatar: ByteArray? = picket.withConn(spec, ByteArrayCodec.INSTANCE) { get("avatar:42".toByteArray()) }
     * ```
     */
    @JvmSynthetic
    public suspend fun <K : Any, V : Any, T> withConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: suspend Commands<K, V>.() -> T,
    ): T = blocks.withConn(spec, codec, block)

    /**
     * Resolves and connects every spec of [specs] now, in parallel (master verified with ROLE, replicas resolved
     * for replica specs), so that the first real block pays for nothing and a mistake shows at startup (as radix's
     * constructor does): throws the first spec's typed error, e.g. [picket.core.MasterNameUnknownException].
     */
    @JvmSynthetic
    public suspend fun warmUp(specs: Collection<ConnSpec>): Unit = blocks.warmUp(specs)

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
        engine.checkOpen()
        when (val target = spec.target) {
            is SpecTarget.Direct -> throw InvalidSpecException(
                "a read/write pair follows a sentinel group; $target is direct",
            )

            is SpecTarget.Sentinel -> sentinel.declaration(target.group)
        }
        return RedisPair(this, spec, balancer, fallbackToMaster)
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
    @JvmSynthetic
    public suspend fun <T> withDedicatedConn(
        spec: ConnSpec,
        block: suspend Commands<String, String>.() -> T,
    ): T = blocks.withDedicatedConn(spec, StringCodec.UTF8, block)

    /** [withDedicatedConn] with keys and values in [codec] (see the codec form of [withConn]). */
    @JvmSynthetic
    public suspend fun <K : Any, V : Any, T> withDedicatedConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: suspend Commands<K, V>.() -> T,
    ): T = blocks.withDedicatedConn(spec, codec, block)

    /**
     * Runs an optimistic transaction on a dedicated connection to the master: `WATCH` [watch], then [block] (its
     * reads run at once through [Transaction.redis]; [Transaction.multi] queues the writes), then `MULTI`, the
     * queued commands and `EXEC`. Returns [TransactionOutcome.Committed] with the replies, or
     * [TransactionOutcome.Aborted] if a watched key changed (nothing ran; run it again to retry).
     *
     * @throws picket.core.TransactionInterruptedException if the connection failed after the transaction began (a
     *   failover closes it): it says whether `EXEC` had been sent, i.e. whether the transaction may have run.
     */
    @JvmSynthetic
    public suspend fun transaction(
        spec: ConnSpec,
        watch: List<String> = emptyList(),
        block: suspend Transaction.() -> Unit,
    ): TransactionOutcome = blocks.transaction(spec, watch, block)

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
    @JvmSynthetic
    public suspend fun pipeline(
        spec: ConnSpec,
        window: Int = DEFAULT_PIPELINE_WINDOW,
        block: suspend Pipeline.() -> Unit,
    ): List<Any?> = blocks.pipeline(spec, window, block)

    /**
     * The blocking form of every member that waits for Redis, for Java: the same names, run on the calling thread
     * (see [BlockingPicket] for the threading contract).
     *
     * ```java
     * Long n = picket.blocking().withConn(spec, redis -> redis.incr("visits"));
     * ```
     */
    public fun blocking(): BlockingPicket = blocking

    /** The `CompletableFuture` form of every member that waits for Redis, for Java: the same names ([AsyncPicket]). */
    public fun async(): AsyncPicket = async

    /**
     * Registers [listener] for every event from now on; closing the returned handle unregisters it.
     */
    public fun registerListener(listener: PicketListener): AutoCloseable = engine.registerListener(listener)

    /**
     * The events from the moment of collection on, as a cold flow; collecting registers a listener. Events wait in an
     * unbounded buffer for a slow collector: none is dropped. It completes when the instance is closed.
     */
    @get:JvmSynthetic
    public val events: Flow<PicketEvent>
        get() = engine.eventFlow()

    /**
     * Checks `ROLE` of every cached master of every group and drops those that fail or are no longer master, so that
     * the next block resolves them again. Call it on a schedule as a safety net for missed announcements; a refused
     * connection drops that entry and the sweep goes on with the others.
     *
     * @return what was dropped.
     */
    @JvmSynthetic
    public suspend fun removeInvalidResolvedMasterSpecs(): List<PicketEvent.EntryInvalidated> = sentinel.removeInvalid()

    /**
     * Drops the cached master of [spec] by hand, so that the next block resolves it again. Returns false if nothing
     * was cached for it.
     */
    public fun invalidate(spec: ConnSpec): Boolean {
        val target = spec.target as? SpecTarget.Sentinel ?: return false
        return sentinel.invalidate(target)
    }

    /**
     * A snapshot of a declared group.
     *
     * @throws SentinelGroupUnknownException if it is not declared.
     */
    public fun status(group: String): GroupStatus = sentinel.status(group)

    /**
     * The declaration of [group], as given to [setSentinelGroups] or [addSentinelGroups]: its sentinels, credentials,
     * timeouts, TLS and address mapping (its `toString()` hides the password).
     *
     * @throws SentinelGroupUnknownException if it is not declared.
     */
    public fun sentinelGroup(group: String): SentinelGroup = sentinel.declaration(group)

    /**
     * Closes every subscription and connection and ends every thread the instance started; blocks running now fail
     * (Java callers waiting in a `blocking()` call get [PicketClosedException] at once), later ones get
     * [PicketClosedException]. Resources given to the constructor are left running. Returns once all is closed, or
     * after a few seconds at most for each step (a Java handler that ignores interruption is not waited for longer).
     *
     * ## Pitfalls
     * It waits for the instance's own coroutines and threads: called from one of them (a [PicketListener], a Java
     * block, a callback of a future this instance returned) it waits for itself, about 2 s per step, before going
     * on. Close from the application's own thread, or hand it over (`thread { picket.close() }`).
     */
    override fun close() {
        engine.close(SHUTDOWN_SECONDS) { sentinel.closeAll() }
    }

    public companion object {
        private const val SHUTDOWN_SECONDS = 2L

        /** Commands a [pipeline] writes before awaiting their replies, unless told otherwise: 1,000. */
        public const val DEFAULT_PIPELINE_WINDOW: Int = 1_000

        /** A builder for an instance with resources, groups and listeners given up front ([PicketBuilder]). */
        @JvmStatic
        public fun builder(): PicketBuilder = PicketBuilder()

        /** The instance behind the top-level functions; created on first use, closed at JVM exit. */
        @JvmStatic
        public val default: Picket by lazy {
            Picket().also { instance ->
                Runtime.getRuntime().addShutdownHook(Thread(instance::close, "picket-shutdown"))
            }
        }
    }
}
