@file:Suppress("SpreadOperator") // Lettuce takes script arguments as varargs; a handful per call

package picket.bus.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import picket.bus.BusSettings
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.ReadFrom
import picket.core.internal.LuaScript
import picket.core.internal.runScript
import java.time.Duration
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/**
 * One bus instance, behind the [picket.bus.Bus] facade: its identity (name, instance id, keys), its specs and
 * scope, the settings of its name, and its closing. The work is done by its parts, one concern each: [registry]
 * (registration and discovery), [calls] (calling), [replies] (reading the replies to its calls), [cache] (the
 * results cache), [heartbeat] (its leases) and the [servers] it runs ([RealBusServer]).
 */
internal class RealBus(
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
    val replies = Replies(picket, blockingSpec, keys.replies(instance), blockSeconds, scope) { terminate(null) }
    val registry = Registry(this)
    val heartbeat = Heartbeat(this)
    val calls = Calls(this)
    val cache = ResultsCache(this)
    val servers = CopyOnWriteArrayList<RealBusServer>()
    private val closed = AtomicBoolean(false)
    private val settingsLock = Mutex()

    @Volatile
    private var settingsValue: BusSettings? = null

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
                val stored = multi(Scripts.INIT, arrayOf(keys.settings, keys.index), *fields)
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

    /** Runs [script] on the bus's master with [keys] and [args], for its list of replies (empty if none). */
    @Suppress("SpreadOperator") // the script's arguments, built once per call
    suspend fun multi(
        script: LuaScript,
        keys: Array<String>,
        vararg args: String,
    ): List<Any> = picket.withConn(spec) { runScript<List<Any>>(script, ScriptOutputType.MULTI, keys, *args) }.orEmpty()

    /** How long a reply stays in Redis for its caller, in ms, as the scripts take it. */
    suspend fun retentionMs(): String =
        settings()
            .resultRetention
            .toMillis()
            .toString()

    /** Stops the servers (running calls get [drain]), fails pending calls, leaves the registry; idempotent. */
    suspend fun close(drain: Duration) {
        if (!closed.compareAndSet(false, true)) return
        servers.forEach { runCatching { it.stop(drain) } }
        replies.pending.values.forEach { it.completeExceptionally(PicketClosedException()) }
        withContext(NonCancellable) {
            withTimeoutOrNull(spec.commandTimeout.toMillis()) {
                runCatching { heartbeat.leave() }
                    .onFailure { log.debug { "bus '$name': leaving failed (leases expire instead): ${it.message}" } }
            }
        }
        scope.cancel()
    }

    private companion object {
        const val INSTANCE_ID_LENGTH = 16
        const val BLOCKING_POOL = 256
    }
}
