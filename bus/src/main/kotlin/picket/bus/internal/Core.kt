@file:Suppress("SpreadOperator") // Lettuce and reflection take varargs; a handful of values per call

package picket.bus.internal

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.TextNode
import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScanArgs
import io.lettuce.core.ScanCursor
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.bus.BusSettings
import picket.bus.CallTimeoutException
import picket.bus.InvalidArgumentsException
import picket.bus.InvalidRegistrationException
import picket.bus.MethodInfo
import picket.bus.NoWorkerException
import picket.bus.ParamInfo
import picket.bus.RemoteException
import picket.bus.UnknownMethodException
import picket.bus.WorkerLostException
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.PicketClosedException
import picket.core.ReadFrom
import picket.core.internal.runScript
import picket.sentinel.Picket
import java.lang.reflect.Type
import java.time.Duration
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicReference

private val log = KotlinLogging.logger {}

/** A method this instance registered: what the registry holds, and the function that runs it. */
internal class Owned(
    val entry: RegistryEntry,
    val invoker: Invoker,
)

/** The state and the Redis work of one bus instance; [picket.bus.Bus] is its facade. */
internal class Core(
    val picket: Picket,
    val name: String,
    spec: ConnSpec,
    base: String,
    private val wanted: BusSettings,
) {
    val spec: ConnSpec = spec.copy(readFrom = ReadFrom.Master)

    /** Blocking reads (BLPOP, BRPOP) on dedicated connections of their own scope, never the shared one. */
    val blockingSpec: ConnSpec =
        this.spec.copy(connectionScope = "picket-bus", poolSize = maxOf(spec.poolSize, BLOCKING_POOL))
    val keys = Keys(base, name)
    val instance: String =
        UUID
            .randomUUID()
            .toString()
            .replace("-", "")
            .take(INSTANCE_ID_LENGTH)
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-bus-$name"))
    val blockSeconds: Double = minOf(1.0, spec.commandTimeout.toMillis() / 2_000.0)
    val owned = ConcurrentHashMap<String, Owned>()
    val served = ConcurrentHashMap<String, Int>()
    val servers = CopyOnWriteArrayList<Serving>()
    val replies = Replies(picket, blockingSpec, keys.replies(instance), blockSeconds, scope) { terminate(null) }
    private val closed = AtomicBoolean(false)
    private val settingsLock = Mutex()

    @Volatile
    private var settingsValue: BusSettings? = null
    private val registry = AtomicReference<Map<String, RegistryEntry>>(emptyMap())

    @Volatile
    private var registryLoadedAt = 0L
    private val beating = AtomicBoolean(false)
    private val repliesIndexed = AtomicBoolean(false)

    init {
        if (name.isBlank()) throw InvalidSpecException("bus name is blank")
        if (name.contains('{') || name.contains('}')) {
            throw InvalidSpecException("bus name '$name' holds '{' or '}', which the bus's hash tag cannot")
        }
        if (base.isBlank()) throw InvalidSpecException("bus key prefix is blank")
    }

    fun checkOpen() {
        if (closed.get()) throw PicketClosedException()
    }

    /**
     * Closes this bus from one of its own loops, which found its Picket closed (terminal: retrying would spin
     * forever). Runs outside the bus's scope, since closing cancels it.
     */
    fun terminate(cause: Throwable?) {
        if (closed.get()) return
        log.warn { "bus '$name': its Picket is closed (${cause?.message ?: "reply reader"}); closing the bus" }
        CoroutineScope(Dispatchers.IO).launch { close(Duration.ZERO) }
    }

    /** Whether [e] (or this bus being closed) means the bus's loops must stop retrying. */
    fun closedCause(e: Throwable): Boolean = closed.get() || e is PicketClosedException

    /** The settings of this bus name, stored by the first instance; read once. */
    suspend fun settings(): BusSettings {
        settingsValue?.let { return it }
        return settingsLock.withLock {
            settingsValue ?: run {
                val fields = wanted.toFields().flatMap { listOf(it.key, it.value) }.toTypedArray()
                val stored =
                    picket
                        .withConn(spec) {
                            runScript<List<Any>>(
                                Scripts.INIT,
                                ScriptOutputType.MULTI,
                                arrayOf(keys.settings, keys.index),
                                *fields,
                            )
                        }.orEmpty()
                val map = stored.chunked(2).associate { (k, v) -> k.toString() to v.toString() }
                BusSettings.fromFields(map, wanted).also { adopted ->
                    if (adopted != wanted && wanted != BusSettings()) {
                        log.warn { "bus '$name' already has settings $adopted in Redis; they win over $wanted" }
                    }
                    settingsValue = adopted
                }
            }
        }
    }

    // ---- registry -----------------------------------------------------------------------------------------------

    suspend fun register(
        entry: RegistryEntry,
        invoker: Invoker,
    ) {
        checkOpen()
        val method = entry.method
        if (method.isBlank()) throw InvalidRegistrationException(method, "its name is blank")
        if (method.any { it == '{' || it == '}' || it.isWhitespace() }) {
            throw InvalidRegistrationException(method, "its name holds '{', '}' or whitespace")
        }
        entry.cacheKey?.let { Binding.checkTemplate(method, it, entry.params) }
        val settings = settings()
        val resolved =
            if (entry.cacheTtlMs ==
                DEFAULT_TTL
            ) {
                entry.copy(cacheTtlMs = settings.defaultCacheTtl?.toMillis())
            } else {
                entry
            }
        registerResolved(resolved, invoker, settings)
    }

    private suspend fun registerResolved(
        entry: RegistryEntry,
        invoker: Invoker,
        settings: BusSettings,
    ) {
        val method = entry.method
        val text = entry.toJson()
        val reply =
            picket
                .withConn(spec) {
                    runScript<List<Any>>(
                        Scripts.REGISTER,
                        ScriptOutputType.MULTI,
                        arrayOf(keys.methods, keys.owners(method), keys.instances, keys.index, keys.cached(method)),
                        method,
                        text,
                        instance,
                        settings.lease.toMillis().toString(),
                        keys.queue(method),
                        keys.workers(method),
                        keys.cached(method),
                        keys.proc(instance),
                        keys.replies(instance),
                    )
                }.orEmpty()
        if (reply.firstOrNull() != 1L) {
            throw InvalidRegistrationException(
                method,
                "it is registered with a different definition, which a live service holds: ${reply.getOrNull(1)}",
                reply.getOrNull(1)?.toString(),
            )
        }
        owned[method] = Owned(entry, invoker)
        registry.updateAndGet { it + (method to entry) }
        startBeating()
    }

    suspend fun reloadRegistry(): Map<String, RegistryEntry> {
        val all = picket.withConn(spec) { hgetall(keys.methods).toList() }
        val parsed =
            all
                .mapNotNull { kv ->
                    val method = kv.key
                    val text = kv.value
                    runCatching { RegistryEntry.parse(text) }
                        .onFailure {
                            log.warn { "bus '$name': registry entry of '$method' is not readable: ${it.message}" }
                        }.getOrNull()
                        ?.let { method to it }
                }.toMap()
        registry.set(parsed)
        registryLoadedAt = System.nanoTime()
        return parsed
    }

    /** [method]'s entry: from the local copy if under a second old, else from Redis (a new method is found at once). */
    suspend fun entry(method: String): RegistryEntry {
        val fresh = System.nanoTime() - registryLoadedAt < REGISTRY_FRESH_NANOS
        registry.get()[method]?.let { if (fresh || owned.containsKey(method)) return it }
        return reloadRegistry()[method] ?: throw UnknownMethodException(name, method, registry.get().keys)
    }

    suspend fun methods(): List<MethodInfo> {
        val flat =
            picket
                .withConn(spec) {
                    runScript<List<Any>>(Scripts.LIST, ScriptOutputType.MULTI, arrayOf(keys.methods), keys.root)
                }.orEmpty()
        return flat
            .chunked(LIST_STRIDE)
            .mapNotNull { (method, text, workers) ->
                val entry = runCatching { RegistryEntry.parse(text.toString()) }.getOrNull() ?: return@mapNotNull null
                MethodInfo(
                    name = method.toString(),
                    params =
                        entry.params.map { p ->
                            ParamInfo(p.name, p.type, p.required, p.hasDefault, p.default?.let { decodePlain(it) })
                        },
                    returns = entry.returns,
                    cacheKey = entry.cacheKey,
                    cacheTtl = entry.cacheTtlMs?.let(Duration::ofMillis),
                    source = entry.source,
                    workers = (workers as Long).toInt(),
                )
            }.sortedBy { it.name }
    }

    // ---- calls --------------------------------------------------------------------------------------------------

    /** One call, start to end: the result's JSON, or the call's typed error. */
    suspend fun call(
        method: String,
        positional: List<Any?>,
        named: Map<String, Any?>,
        timeout: Duration?,
    ): JsonNode? {
        checkOpen()
        val settings = settings()
        val limit = timeout ?: settings.defaultTimeout
        if (limit.isNegative || limit.isZero) {
            throw InvalidArgumentsException(method, "the timeout is $limit, must be > 0")
        }
        val started = System.nanoTime()
        val entry = entry(method)
        val bound = Binding.bind(entry, positional, named)
        val cacheKey = entry.cacheKey?.let { keys.cache(method, Binding.render(it, bound)) }
        val id = UUID.randomUUID().toString()
        val request =
            Json
                .obj()
                .put("id", id)
                .put("method", method)
                .put("replyTo", keys.replies(instance))
                .also { node -> cacheKey?.let { node.put("cacheKey", it) } }
        request.putObject("args").setAll<JsonNode>(bound)
        val tail = Json.write(request).substring(1)
        indexReplies()
        replies.start()
        startBeating()
        val waiting = CompletableDeferred<JsonNode>()
        replies.pending[id] = waiting
        try {
            val queued = queue(method, cacheKey, tail, limit, settings.resultRetention)
            when (queued.firstOrNull()) {
                -1L -> {
                    reloadRegistry()
                    throw UnknownMethodException(name, method, registry.get().keys)
                }

                1L -> {
                    return Json.read(queued[1].toString())
                }
            }
            val left = limit.toMillis() - (System.nanoTime() - started) / NANOS_PER_MS
            return result(
                method,
                awaitReply(method, limit, left, waiting, requestElement(queued, tail)),
            )
        } finally {
            replies.pending.remove(id)
        }
    }

    /**
     * Runs the call script: the cached result, or the request queued with its deadline. The round trip is not
     * cancellable: a caller cancelled once the script was sent but before its reply was read would not know the
     * queued request (its deadline comes from the master's clock) and could not take it back; so it waits for the
     * reply (one round trip, bounded by the command timeout), takes the request back, and then ends cancelled.
     */
    private suspend fun queue(
        method: String,
        cacheKey: String?,
        tail: String,
        limit: Duration,
        retention: Duration,
    ): List<Any> {
        var sent: List<Any>? = null
        try {
            withContext(NonCancellable) {
                sent =
                    picket
                        .withConn(spec) {
                            runScript<List<Any>>(
                                Scripts.CALL,
                                ScriptOutputType.MULTI,
                                listOfNotNull(keys.methods, keys.queue(method), cacheKey).toTypedArray(),
                                method,
                                tail,
                                limit.toMillis().toString(),
                                retention.toMillis().toString(),
                            )
                        }.orEmpty()
            }
        } catch (e: CancellationException) {
            // Cancelled while the script ran: its reply was read all the same (the result is dropped on the way
            // back to a cancelled caller), so a request it queued is known and goes.
            sent?.takeIf { it.firstOrNull() == 0L }?.let { takeBack(method, requestElement(it, tail)) }
            throw e
        }
        return sent!!
    }

    /** The queue element of a request the call script queued (its reply [queued]: {0, deadline}). */
    private fun requestElement(
        queued: List<Any>,
        tail: String,
    ): String = "{\"deadline\":${queued.getOrNull(1)},$tail"

    /** Removes a request its caller gave up on from [method]'s queue, if no worker took it yet; never cancelled. */
    private suspend fun takeBack(
        method: String,
        element: String,
    ) {
        withContext(NonCancellable) { runCatching { picket.withConn(spec) { lrem(keys.queue(method), 1, element) } } }
    }

    /** The reply to a queued call within [left] ms; a caller that gives up takes its request back (never run). */
    private suspend fun awaitReply(
        method: String,
        limit: Duration,
        left: Long,
        waiting: CompletableDeferred<JsonNode>,
        element: String,
    ): JsonNode =
        try {
            withTimeoutOrNull(left.coerceAtLeast(1)) { waiting.await() } ?: throw timedOut(method, limit)
        } catch (e: CancellationException) {
            takeBack(method, element)
            throw e
        }

    /** Names this instance's reply list in the index once (a caller that never registers has it too), for cleanup. */
    private suspend fun indexReplies() {
        if (repliesIndexed.get()) return
        picket.withConn(spec) { sadd(keys.index, keys.replies(instance)) }
        repliesIndexed.set(true)
    }

    private suspend fun timedOut(
        method: String,
        limit: Duration,
    ): Exception {
        val live =
            runCatching {
                picket.withConn(spec) {
                    runScript<Long>(Scripts.LIVE, ScriptOutputType.INTEGER, arrayOf(keys.workers(method)))
                }
            }.getOrNull()
        return if (live == 0L) NoWorkerException(method, limit) else CallTimeoutException(method, limit)
    }

    private fun result(
        method: String,
        reply: JsonNode,
    ): JsonNode? {
        if (reply.path("ok").asBoolean(false)) return reply.get("result")
        val error = reply.path("error")
        val message = error.path("message").takeUnless { it.isMissingNode || it.isNull }?.asText()
        throw when (error.path("kind").asText()) {
            "lost" -> {
                WorkerLostException(method, message ?: "no reason given")
            }

            "arguments" -> {
                InvalidArgumentsException(method, message ?: "refused by the worker")
            }

            else -> {
                RemoteException(
                    method,
                    error.path("type").asText("unknown"),
                    message,
                    error.path("stack").takeUnless { it.isMissingNode || it.isNull }?.asText(),
                )
            }
        }
    }

    suspend fun clearCache(
        method: String,
        positional: List<Any?>,
        named: Map<String, Any?>,
    ): Boolean {
        checkOpen()
        val entry = entry(method)
        val template =
            entry.cacheKey
                ?: throw InvalidArgumentsException(method, "it has no cache (registered without a cache key)")
        val key = keys.cache(method, Binding.render(template, Binding.bind(entry, positional, named)))
        return picket.withConn(spec) {
            runScript<Long>(Scripts.CLEAR, ScriptOutputType.INTEGER, arrayOf(key, keys.cached(method)))
        } == 1L
    }

    /** Deletes every key of the bus: the index names them, the cached sets name the cache entries; no KEYS. */
    suspend fun cleanup(): Long {
        checkOpen()
        var deleted = 0L
        picket.withConn(spec) {
            val indexed = mutableSetOf<String>()
            var cursor: ScanCursor = ScanCursor.INITIAL
            do {
                val page = sscan(keys.index, cursor, ScanArgs.Builder.limit(SCAN_PAGE))!!
                indexed += page.values
                cursor = page
            } while (!page.isFinished)
            val methods = hkeys(keys.methods).toList()
            indexed += methods.flatMap { listOf(keys.queue(it), keys.owners(it), keys.workers(it), keys.cached(it)) }
            indexed += listOf(keys.settings, keys.methods, keys.instances)
            indexed.filter { it.startsWith(keys.root + "cached:") }.forEach { cachedSet ->
                var start = 0L
                while (true) {
                    val page = zrange(cachedSet, start, start + SCAN_PAGE - 1).toList()
                    if (page.isEmpty()) break
                    deleted += del(*page.toTypedArray()) ?: 0
                    start += SCAN_PAGE
                }
            }
            indexed.chunked(SCAN_PAGE.toInt()).forEach { chunk -> deleted += del(*chunk.toTypedArray()) ?: 0 }
            deleted += del(keys.index) ?: 0
        }
        registry.set(emptyMap())
        // The settings stay known here: forgetting them would make this instance's next heartbeat or call run INIT,
        // which writes the settings and the index back (a cleaned bus must stay clean while this instance lives).
        return deleted
    }

    // ---- heartbeat ----------------------------------------------------------------------------------------------

    fun startBeating() {
        if (!beating.compareAndSet(false, true)) return
        // A thread of its own (a view of Dispatchers.IO): a busy or blocked Dispatchers.Default cannot starve the
        // heartbeat, whose lapse would get this instance reaped while alive.
        scope.launch(Dispatchers.IO.limitedParallelism(1)) {
            while (isActive) {
                val period = settings().lease.toMillis() / BEATS_PER_LEASE
                delay(period)
                try {
                    beat()
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    if (closedCause(e)) {
                        terminate(e)
                        return@launch
                    }
                    log.debug { "bus '$name' heartbeat failed: ${e.message}" }
                }
            }
        }
    }

    /** Renews this instance's leases, reaps dead instances; registrations found missing are written again. */
    suspend fun beat() {
        val settings = settings()
        val mine = owned.keys.toList()
        val serving = served.keys.toList()
        val reply =
            picket
                .withConn(spec) {
                    runScript<List<Any>>(
                        Scripts.BEAT,
                        ScriptOutputType.MULTI,
                        arrayOf(keys.instances, keys.methods, keys.index),
                        instance,
                        settings.lease.toMillis().toString(),
                        keys.root,
                        settings.resultRetention.toMillis().toString(),
                        mine.size.toString(),
                        *mine.toTypedArray(),
                        *serving.toTypedArray(),
                    )
                }.orEmpty()
        reply.drop(1).forEach { missing ->
            owned[missing.toString()]?.let { own ->
                log.info { "bus '$name': registration of '$missing' was gone from Redis; registering it again" }
                runCatching { registerResolved(own.entry, own.invoker, settings) }
            }
        }
    }

    /** Whether [method] has a live worker now. */
    suspend fun liveWorkers(method: String): Long =
        picket.withConn(spec) { runScript<Long>(Scripts.LIVE, ScriptOutputType.INTEGER, arrayOf(keys.workers(method))) }
            ?: 0L

    suspend fun close(drain: Duration) {
        if (!closed.compareAndSet(false, true)) return
        servers.forEach { runCatching { it.stop(drain) } }
        replies.pending.values.forEach { it.completeExceptionally(PicketClosedException()) }
        withContext(NonCancellable) {
            withTimeoutOrNull(spec.commandTimeout.toMillis()) {
                runCatching {
                    val mine = owned.keys.toList()
                    val serving = served.keys.toList()
                    picket.withConn(spec) {
                        runScript<Long>(
                            Scripts.LEAVE,
                            ScriptOutputType.INTEGER,
                            arrayOf(keys.instances, keys.methods, keys.index),
                            instance,
                            keys.root,
                            mine.size.toString(),
                            *mine.toTypedArray(),
                            *serving.toTypedArray(),
                        )
                    }
                }.onFailure { log.debug { "bus '$name': leaving failed (leases expire instead): ${it.message}" } }
            }
        }
        scope.cancel()
    }

    internal companion object {
        /** A registration's cache TTL before the bus's default is known. */
        const val DEFAULT_TTL = -1L
        const val INSTANCE_ID_LENGTH = 16
        const val BLOCKING_POOL = 256
        const val REGISTRY_FRESH_NANOS = 1_000_000_000L
        const val NANOS_PER_MS = 1_000_000L
        const val LIST_STRIDE = 3
        const val SCAN_PAGE = 500L
        const val BEATS_PER_LEASE = 3

        fun text(value: String): String = Json.write(TextNode(value))
    }
}

internal fun decodePlain(node: JsonNode): Any? = Json.mapper.treeToValue(node, Any::class.java)

/** [node] decoded as [type]; a mismatch is a [picket.bus.ResultDecodingException]. */
internal fun <T> decode(
    method: String,
    node: JsonNode?,
    type: Type,
): T {
    val javaType = Json.mapper.typeFactory.constructType(type)
    return try {
        Json.mapper.convertValue(node ?: Json.nodes.nullNode(), javaType)
    } catch (e: IllegalArgumentException) {
        throw picket.bus.ResultDecodingException(method, javaType.toCanonical(), e)
    }
}
