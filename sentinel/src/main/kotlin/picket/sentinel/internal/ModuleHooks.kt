@file:JvmName("ModuleHooks")

package picket.sentinel.internal

import io.lettuce.core.sentinel.api.async.RedisSentinelAsyncCommands
import picket.core.Address
import picket.core.Commands
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.engine.PubSubAttachment
import picket.sentinel.Picket

// What Picket's other modules need from an instance and users must not call. These are extensions, off the public
// facade, opt-in only (InternalPicketApi), and synthetic on the JVM: javac does not let Java code call them, and
// Java's view of the API does not show them.

/**
 * For the monitor: runs [block] on a short-lived connection to [sentinel] made with [group]'s credentials, timeouts,
 * TLS and address mapping, closed afterwards, as resolution does.
 *
 * @throws picket.core.SentinelGroupUnknownException if [group] is not declared.
 */
@InternalPicketApi
@JvmSynthetic
public suspend fun <T> Picket.askSentinel(
    group: String,
    sentinel: Address,
    block: suspend (RedisSentinelAsyncCommands<String, String>) -> T,
): T {
    engine.checkOpen()
    return queries.on(sentinel, groups.get(group).config, block)
}

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
 * For the monitor: [listener] gets every announcement the group subscriptions receive (`+switch-master`, `+slave`,
 * `+sentinel`, `+sdown`, …) as it arrives (its group, sentinel, channel and message) for every master name, used
 * by a block or not, before Picket acts on it. It runs on the subscription's I/O thread: it must be fast and must not
 * block; one that throws is logged. Closing the handle unregisters it.
 */
@InternalPicketApi
@JvmSynthetic
public fun Picket.registerAnnouncementListener(
    listener: (group: String, sentinel: Address, channel: String, message: String) -> Unit,
): AutoCloseable = announcements.register(listener)

/**
 * For the monitor: closes the connections, shared and dedicated, of specs with [connectionScope]
 * ([ConnSpec.connectionScope]); the next block on such a spec connects again. Returns how many shared connections
 * were closed.
 */
@InternalPicketApi
@JvmSynthetic
public fun Picket.closeConnections(connectionScope: String): Int = engine.closeScope(connectionScope)
