package picket.monitor

import io.github.oshai.kotlinlogging.KotlinLogging
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
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Semaphore
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.engine.JavaCalls
import picket.core.internal.Backoff
import picket.core.internal.ListenerBus
import picket.core.internal.handlers
import picket.core.internal.javaCalls
import picket.monitor.internal.JavaHandlers
import picket.monitor.internal.NodePoller
import picket.monitor.internal.Queries
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/**
 * Polls `INFO` of every node its [watchers] report, caches it, and answers queries about it: Picket's version of
 * RedisLabs' `redis_info_provider`, on coroutines, finding its nodes through Sentinel.
 *
 * ```kotlin
 * Monitor(picket, listOf(SentinelNodeWatcher(picket))).use { monitor ->
 *     val masters = monitor.query(InfoQuery(role = Role.MASTER, keys = listOf("used_memory")))
 *     MonitorServer(monitor, InetSocketAddress("127.0.0.1", 9121)).start()
 * }
 * ```
 *
 * Each node has one coroutine and one connection (a direct connection named [MonitorOptions.clientName], never
 * shared with application blocks), its INFO is polled at an interval the [MonitorOptions.policy] adapts to its
 * activity, at most [MonitorOptions.maxConcurrentPolls] at once. A slow or dead node delays no other: its poll fails
 * after the command timeout and it is retried with a capped backoff, reported down with its last good INFO.
 *
 * Thread-safe. [close] stops the watchers and pollers and closes the monitor's connections (a node removed from the
 * registry has its connection closed at once).
 *
 * Java calls [refresh], the one member that waits for Redis, on [blocking] (on the calling thread) or [async] (as a
 * future); the rest serve both languages:
 *
 * ```java
 * InfoResult fresh = monitor.blocking().refresh(InfoQuery.builder().role(Role.MASTER).build());
 * ```
 *
 * @param supervisor gets every [MonitorEvent.Failure] (a watcher or poller that died), besides the listeners;
 *   by default they are logged as errors.
 */
@OptIn(InternalPicketApi::class)
public class Monitor
    @JvmOverloads
    constructor(
        private val picket: Picket,
        watchers: List<NodeWatcher>,
        public val options: MonitorOptions = MonitorOptions(),
        private val supervisor: MonitorListener = MonitorListener { log.error(failureOf(it)) { "monitor: $it" } },
    ) : AutoCloseable {
        private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-monitor"))

        /** How the [blocking] and [async] views run [refresh] (Picket's Java convention, core's `JavaCalls.kt`). */
        @get:JvmSynthetic
        internal val calls: JavaCalls = picket.javaCalls()
        private val blocking = BlockingMonitor(this)
        private val async = AsyncMonitor(this)

        // Not cancelled on close: its coroutine delivers what was emitted before, then ends and completes the flows.
        private val bus =
            ListenerBus<MonitorEvent, MonitorListener>(
                CoroutineScope(SupervisorJob() + CoroutineName("picket-monitor-events")),
                picket.handlers(),
            ) { listener, event -> listener.onEvent(event) }
        private val permits = Semaphore(options.maxConcurrentPolls)
        private val pollers = ConcurrentHashMap<String, NodePoller>()
        private val closed = AtomicBoolean(false)

        /** The live nodes: what the watchers report, and what is added by hand. */
        public val registry: NodeRegistry = NodeRegistry()

        private val queries = Queries(registry, pollers)
        private val registryHandle: AutoCloseable = registry.registerListener(::onRegistryChange)

        init {
            // Each watcher reports as a source of its own, ranked in the order given (see NodeRegistry).
            // The Java code a watcher calls (NodeWatcher.polling's supplier) runs on the instance's handler executor.
            val context = JavaHandlers(picket.handlers())
            watchers.forEachIndexed { rank, watcher ->
                scope.launch(context) { supervise(watcher, registry.sink(rank)) }
            }
        }

        /** Every node's state now, in the registry's order. */
        public fun states(): List<NodeState> = registry.nodes().mapNotNull { pollers[it.id]?.state() }

        /** The state of node [id] now, or null if it is not in the registry. */
        public fun state(id: String): NodeState? = pollers[id]?.state()

        /**
         * Answers [query] from the cached INFO, without touching any node.
         *
         * @throws UnknownNodeException if a named node is not in the registry (and not [InfoQuery.allowPartial]).
         * @throws NodeNotPolledException if a named node has no INFO yet (and not [InfoQuery.allowPartial]).
         * @throws UnknownSectionException if a section is unknown.
         */
        public fun query(query: InfoQuery): InfoResult {
            checkOpen()
            return queries.answer(query)
        }

        /**
         * Polls the nodes [query] concerns now, all at once (each within its timeouts), then answers it: the forced
         * refresh. A node whose poll fails, or does not finish within the connect and command timeouts (a paused
         * node, or one whose scheduled poll is still running), answers with its last good INFO and its age, like
         * [query]: one slow node bounds the refresh, it does not fail it.
         *
         * Java: `blocking().refresh(query)` or `async().refresh(query)`.
         *
         * @throws UnknownNodeException as [query] does; so do the other errors.
         */
        @JvmSynthetic
        public suspend fun refresh(query: InfoQuery): InfoResult {
            checkOpen()
            val targets = queries.targets(query)
            val bound = (options.connectTimeout + options.commandTimeout).toMillis()
            coroutineScope {
                targets.mapNotNull { it.poller }.map { async { withTimeoutOrNull(bound) { it.pollNow() } } }.awaitAll()
            }
            return queries.answer(query)
        }

        /** The blocking form of [refresh], for Java: the same name, run on the calling thread ([BlockingMonitor]). */
        public fun blocking(): BlockingMonitor = blocking

        /** The `CompletableFuture` form of [refresh], for Java ([AsyncMonitor]). */
        public fun async(): AsyncMonitor = async

        /** The INFO sections a query may name: Redis's, and any other a polled node reported. */
        public fun knownSections(): Set<String> = queries.knownSections()

        /** Registers [listener] for every event from now on; closing the handle unregisters it. */
        public fun registerListener(listener: MonitorListener): AutoCloseable = bus.register(listener)

        /**
         * The events from the moment of collection on, as a cold flow (unbounded buffer). It completes when the
         * monitor is closed, after the events emitted before; collected after [close], it is empty. Java:
         * [registerListener].
         */
        @get:JvmSynthetic
        public val events: Flow<MonitorEvent>
            get() = bus.asFlow()

        /**
         * Stops every watcher and poller and closes the monitor's connections to the nodes. [events] collectors
         * complete once the events emitted before are delivered. Queries after it throw [PicketClosedException].
         */
        override fun close() {
            if (!closed.compareAndSet(false, true)) return
            registryHandle.close()
            scope.cancel()
            pollers.values.forEach { it.stop() }
            bus.close()
        }

        private fun onRegistryChange(event: RegistryEvent) {
            if (closed.get()) return
            when (event) {
                is RegistryEvent.Added -> {
                    pollers.computeIfAbsent(event.node.id) {
                        NodePoller(event.node, picket, options, permits, ::emit).also { it.start(scope) }
                    }
                }

                is RegistryEvent.Updated -> {
                    pollers[event.node.id]?.node = event.node
                }

                is RegistryEvent.Removed -> {
                    pollers.remove(event.node.id)?.stop()
                }
            }
        }

        private fun emit(event: MonitorEvent) {
            bus.emit(event)
            if (event is MonitorEvent.Failure) {
                try {
                    supervisor.onEvent(event)
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    log.warn(e) { "the monitor's supervisor threw on $event" }
                }
            }
        }

        /** Runs [watcher], restarting it with a capped backoff whenever it throws; its nodes stay meanwhile. */
        private suspend fun supervise(
            watcher: NodeWatcher,
            sink: NodeSink,
        ) {
            var failures = 0
            while (true) {
                val started = System.nanoTime()
                try {
                    watcher.watch(sink)
                    return
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    if (Duration.ofNanos(System.nanoTime() - started) > options.maxBackoff) failures = 0
                    failures++
                    val wait =
                        Duration.ofMillis(
                            Backoff.after(failures, options.coolOff.toMillis(), options.maxBackoff.toMillis()),
                        )
                    emit(MonitorEvent.WatcherFailed(watcher, e, wait))
                    delay(wait.toMillis())
                }
            }
        }

        private fun checkOpen() {
            if (closed.get()) throw PicketClosedException()
        }

        private companion object {
            fun failureOf(event: MonitorEvent): Throwable? = (event as? MonitorEvent.Failure)?.error
        }
    }
