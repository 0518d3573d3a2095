package picket.monitor

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.output.ListOfMapsOutput
import io.lettuce.core.protocol.CommandArgs
import io.lettuce.core.protocol.CommandType
import io.lettuce.core.sentinel.api.async.RedisSentinelAsyncCommands
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.PicketEvent
import picket.sentinel.internal.askSentinel
import picket.sentinel.internal.registerAnnouncementListener
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap

private val log = KotlinLogging.logger {}

/**
 * Tracks every master, replica and sentinel of sentinel groups declared on [picket]: asks one sentinel of each
 * group (`SENTINEL MASTERS`, then `SENTINEL REPLICAS` and `SENTINEL SENTINELS` of each master name) every
 * [refreshEvery], and at once when Picket sees the group change (a switch, a failover's end, refreshed sentinels, a
 * subscription back, an invalidated entry) or one of the group's sentinels announces `+switch-master`, `+slave`,
 * `+sentinel`, `+convert-to-slave` or `+role-change` (on Picket's own subscriptions, for every master name, whether a
 * block uses it or not). So a failover is followed one sentinel question after the first `+switch-master`, a replica
 * or sentinel added as soon as a sentinel announces it, and one removed (which Sentinel forgets only on
 * `SENTINEL RESET`) within [refreshEvery]. The sentinel that made the last announcement is asked first from then on
 * (the others may not have switched yet); if it does not answer, the group's order goes on.
 *
 * Roles are the sentinels' view: a killed master stays listed, as a replica of the new master flagged down, so the
 * monitor keeps reporting it down with its last INFO. Each question is a short-lived connection made with the group's
 * credentials, TLS and address mapping; sentinels are asked in the group's order (last good first) until one answers.
 * A group none of whose sentinels answers keeps the nodes it had, and the watcher fails (and is restarted).
 *
 * ```kotlin
 * Monitor(picket, listOf(SentinelNodeWatcher(picket)))
 * ```
 *
 * @param groups the groups to follow; null for every group declared on [picket] at each refresh.
 * @throws InvalidSpecException if [refreshEvery] is not positive.
 */
@OptIn(InternalPicketApi::class)
public class SentinelNodeWatcher
    @JvmOverloads
    constructor(
        private val picket: Picket,
        private val groups: Set<String>? = null,
        public val refreshEvery: Duration = DEFAULT_REFRESH,
    ) : NodeWatcher {
        init {
            if (refreshEvery.isNegative || refreshEvery.isZero) {
                throw InvalidSpecException("refreshEvery is $refreshEvery, must be > 0")
            }
        }

        /** The last nodes seen of each group, kept when a group's sentinels cannot be reached. */
        private val lastSeen = HashMap<String, List<MonitoredNode>>()

        /**
         * Per group, the sentinel that announced the last change: it has made the change its own, so it is asked
         * first from then on (another may not have switched yet, and would undo the change in the registry).
         */
        private val announcedBy = ConcurrentHashMap<String, Address>()

        @JvmSynthetic
        override suspend fun watch(sink: NodeSink) {
            val changed = Channel<Unit>(Channel.CONFLATED)
            val handle =
                picket.registerListener { event ->
                    if (isChange(event)) {
                        if (event is PicketEvent.SwitchMaster) event.sentinel?.let { announcedBy[event.group] = it }
                        changed.trySend(Unit)
                    }
                }
            // The sentinels' own announcements, for every master name: a switch of a master no block of this Picket
            // uses gives no PicketEvent, and a replica or sentinel added gives none at all. The announcing sentinel
            // has made the change its own: it is asked first (another may not have switched yet).
            val announcements =
                picket.registerAnnouncementListener { group, sentinel, channel, _ ->
                    if ((groups == null || group in groups) && channel in ANNOUNCEMENTS) {
                        announcedBy[group] = sentinel
                        changed.trySend(Unit)
                    }
                }
            try {
                while (true) {
                    refresh(sink)
                    withTimeoutOrNull(refreshEvery.toMillis()) { changed.receive() }
                }
            } finally {
                handle.close()
                announcements.close()
            }
        }

        /** Asks each group once and reports what it says; throws if a group could not be asked (after reporting). */
        private suspend fun refresh(sink: NodeSink) {
            val names = groups ?: picket.sentinelGroups()
            val failures = LinkedHashMap<String, Throwable>()
            for (group in names) {
                try {
                    lastSeen[group] = ask(group)
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    failures[group] = e
                }
            }
            lastSeen.keys.retainAll(names)
            sink.replaceAll(
                lastSeen.values
                    .flatten()
                    .associateBy { it.id }
                    .values,
            )
            if (failures.isNotEmpty()) {
                throw SentinelWatchException(failures)
            }
        }

        /** The nodes of [group] as the first sentinel that answers sees them. */
        private suspend fun ask(group: String): List<MonitoredNode> {
            val errors = LinkedHashMap<Address, Throwable>()
            val order = (listOfNotNull(announcedBy[group]) + picket.status(group).sentinels).distinct()
            for (sentinel in order) {
                try {
                    return picket.askSentinel(group, sentinel) { commands -> nodesOf(group, sentinel, commands) }
                } catch (e: CancellationException) {
                    throw e
                } catch (
                    @Suppress("TooGenericExceptionCaught") e: Exception,
                ) {
                    log.debug { "sentinel $sentinel of group '$group' did not answer: ${e.message}" }
                    errors[sentinel] = e
                    announcedBy.remove(group, sentinel)
                }
            }
            throw IllegalStateException(
                "no sentinel answered: " + errors.entries.joinToString("; ") { (s, e) -> "$s: ${e.message}" },
                errors.values.firstOrNull(),
            )
        }

        private suspend fun nodesOf(
            group: String,
            sentinel: Address,
            commands: RedisSentinelAsyncCommands<String, String>,
        ): List<MonitoredNode> {
            val nodes = LinkedHashMap<String, MonitoredNode>()
            val sentinels = LinkedHashSet<Address>().apply { add(sentinel) }
            for (master in commands.masters().await()) {
                val name = master.getValue("name")
                add(nodes, MonitoredNode(address(master), Role.MASTER, name, group))
                commands.replicas(name).await().forEach {
                    add(nodes, MonitoredNode(address(it), Role.REPLICA, name, group))
                }
                val args = CommandArgs(StringCodec.UTF8).add("SENTINELS").add(name)
                commands
                    .dispatch(CommandType.SENTINEL, ListOfMapsOutput(StringCodec.UTF8), args)
                    .await()
                    .forEach { sentinels += address(it) }
            }
            sentinels.forEach { add(nodes, MonitoredNode(it, Role.SENTINEL, null, group)) }
            return nodes.values.toList()
        }

        /** Keeps the first description of an address (a master before a stale replica entry of itself). */
        private fun add(
            nodes: MutableMap<String, MonitoredNode>,
            node: MonitoredNode,
        ) {
            nodes.putIfAbsent(node.id, node)
        }

        private fun address(fields: Map<String, String>): Address =
            Address(fields.getValue("ip"), fields.getValue("port").toInt())

        private fun isChange(event: PicketEvent): Boolean =
            (groups == null || event.group in groups) &&
                when (event) {
                    is PicketEvent.SwitchMaster,
                    is PicketEvent.FailoverEnded,
                    is PicketEvent.SentinelsRefreshed,
                    is PicketEvent.EntryInvalidated,
                    -> true

                    is PicketEvent.Subscribed -> event.resubscribed

                    else -> false
                }

        override fun toString(): String = "SentinelNodeWatcher(groups=${groups ?: "all"}, refreshEvery=$refreshEvery)"

        public companion object {
            /** The sentinels' announcements of a change of the nodes or their roles. */
            private val ANNOUNCEMENTS =
                setOf("+switch-master", "+slave", "+sentinel", "+convert-to-slave", "+role-change")

            /** 5 s between refreshes without a change seen. */
            @JvmField
            public val DEFAULT_REFRESH: Duration = Duration.ofSeconds(5)
        }
    }

/** Some groups' sentinels could not be asked; [failures] holds each group's cause. Their nodes were kept. */
public class SentinelWatchException(
    /** Each group's cause. */
    public val failures: Map<String, Throwable>,
) : MonitorException(
        "sentinels of ${failures.keys.joinToString { "'$it'" }} could not be asked, their nodes are kept: " +
            failures.entries.joinToString("; ") { (group, e) -> "$group: ${e.message}" },
    )
