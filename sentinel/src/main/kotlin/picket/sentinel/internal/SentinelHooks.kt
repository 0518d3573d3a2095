@file:JvmName("SentinelHooks")

package picket.sentinel.internal

import io.lettuce.core.sentinel.api.async.RedisSentinelAsyncCommands
import picket.core.Address
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.SentinelGroupUnknownException
import picket.core.internal.sentinelSupport

// What the monitor needs from an instance's sentinel groups and users must not call: opt-in extensions, synthetic on
// the JVM (javac neither calls nor shows them), as core's internal ModuleHooks.kt.

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
    val groups = sentinelSupport() as? SentinelGroups ?: throw SentinelGroupUnknownException(group, emptySet())
    return groups.ask(group, sentinel, block)
}

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
): AutoCloseable = (sentinelSupport() as? SentinelGroups)?.announcements?.register(listener) ?: AutoCloseable {}
