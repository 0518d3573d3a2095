@file:JvmName("ModuleHooks")

package picket.core.internal

import kotlinx.coroutines.CoroutineDispatcher
import picket.core.Commands
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.engine.JavaCalls
import picket.core.engine.PubSubAttachment
import picket.core.engine.SentinelSupport

// What Picket's other modules need from an instance and users must not call. These are extensions, off the public
// facade, opt-in only (InternalPicketApi), and synthetic on the JVM: javac does not let Java code call them, and
// Java's view of the API does not show them. The Sentinel-specific ones are picket-sentinel's (its internal
// SentinelHooks.kt).

/**
 * For pub/sub: resolves [spec] as `withConn` would (the ROLE-checked master, after any write parking, or a replica
 * its balancer picks) and opens a new pub/sub connection of the caller's own to that node, on I/O threads that no
 * `withConn` connection uses. [onClosed] runs once when the connection closes for any reason. The caller closes the
 * connection.
 *
 * @throws picket.core.PicketException subtypes as `withConn` does.
 */
@InternalPicketApi
@JvmSynthetic
public suspend fun Picket.openPubSub(
    spec: ConnSpec,
    onClosed: () -> Unit,
): PubSubAttachment = engine.openPubSub(spec, onClosed)

/**
 * For locks: `withConn`, telling [block] Sentinel's config-epoch of the master it runs on (the epoch that came with
 * that master's address), or null where there is none (direct specs, replicas) or it is not known yet (just after a
 * switch, until the sentinels are asked).
 */
@InternalPicketApi
@JvmSynthetic
public suspend fun <T> Picket.withConnOnEpoch(
    spec: ConnSpec,
    block: suspend Commands<String, String>.(epoch: Long?) -> T,
): T = engine.blocks.withConnOnEpoch(spec, block)

/**
 * For the monitor: closes the connections, shared and dedicated, of specs with [connectionScope]
 * ([ConnSpec.connectionScope]); the next block on such a spec connects again. Returns how many shared connections
 * were closed.
 */
@InternalPicketApi
@JvmSynthetic
public fun Picket.closeConnections(connectionScope: String): Int = engine.closeScope(connectionScope)

/** For picket-sentinel's hooks: the sentinel groups of this instance. */
@InternalPicketApi
@JvmSynthetic
public fun Picket.sentinelSupport(): SentinelSupport = sentinel

/**
 * For every module's Java forms: how a `blocking()` view runs a suspend member on the caller's thread and an `async()`
 * view returns a future, as children of this instance (closing it cancels them). See `engine/JavaCalls.kt`.
 */
@InternalPicketApi
@JvmSynthetic
public fun Picket.javaCalls(): JavaCalls = engine.java

/**
 * For modules that call the user's Java code from their own coroutines (workers, listeners, bus methods): the
 * dispatcher to run it on (`runInterruptible(picket.handlers())`), the executor the instance was built with, or
 * kotlinx's shared IO threads.
 */
@InternalPicketApi
@JvmSynthetic
public fun Picket.handlers(): CoroutineDispatcher = engine.handlers
