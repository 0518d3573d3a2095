package picket.sentinel.internal.failover

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.codec.StringCodec
import io.lettuce.core.pubsub.RedisPubSubAdapter
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.PicketEvent
import picket.core.internal.Backoff
import picket.core.internal.connections.Clients
import picket.core.internal.connections.bounded
import picket.core.internal.connections.connectedWithin
import picket.core.internal.events.EventBus
import picket.core.internal.unlessCancelled
import picket.sentinel.internal.failover.Announcements
import picket.sentinel.internal.resolution.GroupResolver
import picket.sentinel.internal.resolution.SentinelQueries
import java.util.concurrent.ConcurrentHashMap

private val log = KotlinLogging.logger {}

/**
 * The event subscriptions of one sentinel group: one connection per sentinel (one in all in economy mode), each
 * PINGed for liveness and re-established with capped backoff when it fails; after a loss, every cached master of
 * the group is re-validated, since announcements may have been missed.
 */
internal class SentinelWatcher(
    private val resolver: GroupResolver,
    private val clients: Clients,
    private val queries: SentinelQueries,
    private val bus: EventBus,
    private val scope: CoroutineScope,
    private val announcements: Announcements = Announcements(),
) {
    private val state = resolver.state
    private val subscriptions = ConcurrentHashMap<Address, Job>()
    private val alive = ConcurrentHashMap<Address, Boolean>()

    /**
     * Subscribes to the group's sentinels: one subscription per sentinel, or in economy mode a single one that moves
     * to the next sentinel whenever its sentinel fails.
     */
    fun start() {
        if (state.config.subscribeToAll) {
            state.allSentinels().forEach(::watch)
        } else {
            val first = state.orderedSentinels().first()
            subscriptions.computeIfAbsent(first) { scope.launch { subscribeForever(first, rotate = true) } }
        }
    }

    /** Subscribes to sentinels discovered later too, unless in economy mode. */
    fun learnt(sentinels: List<Address>) {
        if (state.config.subscribeToAll) sentinels.forEach(::watch)
    }

    /** The sentinels subscribed to now, and whether each subscription is established. */
    fun status(): Map<Address, Boolean> = alive.toMap()

    fun stop() {
        subscriptions.values.forEach { it.cancel() }
        subscriptions.clear()
    }

    private fun watch(sentinel: Address) {
        subscriptions.computeIfAbsent(sentinel) { scope.launch { subscribeForever(sentinel, rotate = false) } }
    }

    private suspend fun subscribeForever(
        initial: Address,
        rotate: Boolean,
    ) {
        var sentinel = initial
        var lost = false
        val backoff = Backoff(INITIAL_BACKOFF_MS, MAX_BACKOFF_MS)
        while (scope.isActive) {
            var connection: StatefulRedisPubSubConnection<String, String>? = null
            try {
                alive[sentinel] = false
                connection = connect(sentinel)
                alive[sentinel] = true
                bus.emit(PicketEvent.Subscribed(state.name, sentinel, resubscribed = lost))
                if (lost) scope.launch { resolver.revalidate() }
                backoff.reset()
                pingUntilFailure(connection)
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                alive[sentinel] = false
                if (!lost || connection != null) bus.emit(PicketEvent.SubscriptionLost(state.name, sentinel, e))
                log.debug { "group ${state.name}: subscription to $sentinel failed: ${e.message}" }
                lost = true
                if (rotate) {
                    alive.remove(sentinel)
                    sentinel = after(sentinel)
                }
            } finally {
                connection?.let { clients.close(it) }
            }
            backoff.pause()
        }
    }

    /** The sentinel to try after [failed]: the next one in asking order. */
    private fun after(failed: Address): Address {
        val order = state.orderedSentinels().filter { it != failed }
        return order.firstOrNull() ?: failed
    }

    private suspend fun connect(sentinel: Address): StatefulRedisPubSubConnection<String, String> {
        val config = state.config
        val future =
            clients
                .of(config.keepAlive, config.tls)
                .connectPubSubAsync(StringCodec.UTF8, queries.uri(sentinel, config))
                .toCompletableFuture()
        val connection =
            connectedWithin(future, config.connectTimeout, "subscribing to sentinel $sentinel") { clients.close(it) }
        try {
            connection.addListener(
                object : RedisPubSubAdapter<String, String>() {
                    override fun message(
                        channel: String,
                        message: String,
                    ) {
                        // Handled on the I/O thread: a switch must not wait for a dispatcher.
                        handle(sentinel, channel, message)
                    }
                },
            )
            // Once per connection: the copy the spread makes is of no account.
            @Suppress("SpreadOperator")
            bounded(config.commandTimeout, "SUBSCRIBE on sentinel $sentinel") {
                connection.async().subscribe(*CHANNELS).await()
            }
            return connection
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            clients.close(connection)
            throw e
        }
    }

    private suspend fun pingUntilFailure(connection: StatefulRedisPubSubConnection<String, String>) =
        coroutineScope {
            val config = state.config
            while (isActive) {
                delay(config.pingInterval.toMillis())
                check(connection.isOpen) { "connection closed" }
                bounded(config.commandTimeout, "PING") { connection.async().ping().await() }
            }
        }

    private fun handle(
        sentinel: Address,
        channel: String,
        message: String,
    ) {
        announcements.deliver(state.name, sentinel, channel, message)
        try {
            when (channel) {
                "+switch-master" -> {
                    // <master-name> <old-ip> <old-port> <new-ip> <new-port>
                    val parts = message.split(" ")
                    val old = Address(parts[1], parts[2].toInt())
                    announcedSwitch(parts[0], old, Address(parts[3], parts[4].toInt()), sentinel)
                }

                "+selected-slave" -> {
                    // slave <ip>:<port> <ip> <port> @ <master-name> <master-ip> <master-port>
                    val (replica, masterName, master) = instance(message)
                    resolver.switches.failoverStarted(masterName, master, replica, sentinel)
                }

                "+new-epoch" -> {
                    resolver.parking.newEpoch(sentinel, message.trim().toLong())
                }

                "+promoted-slave" -> {
                    val (replica, masterName, master) = instance(message)
                    resolver.switches.promoted(masterName, master, replica, sentinel)
                }

                in ABORTS -> {
                    // master <master-name> <ip> <port>
                    val parts = message.split(" ")
                    resolver.parking.aborted(parts[1], Address(parts[2], parts[3].toInt()))
                }

                "+sentinel" -> {
                    // sentinel <id> <ip> <port> @ <master-name> <master-ip> <master-port>
                    val parts = message.split(" ")
                    val announced = Address(parts[2], parts[3].toInt())
                    // Comparing it with the known ones may resolve host names: off this I/O thread.
                    scope.launch(Dispatchers.IO) { resolver.learnSentinels(sentinel, listOf(announced)) }
                }

                else -> {
                    // <instance-type> <name> <ip> <port> @ <master-name> <master-ip> <master-port>
                    val parts = message.split(" ")
                    val at = parts.indexOf("@")
                    if (parts.firstOrNull() == "slave" && at >= 0) resolver.replicasChanged(parts[at + 1])
                }
            }
        } catch (
            @Suppress("TooGenericExceptionCaught") e: RuntimeException,
        ) {
            log.warn(e) { "group ${state.name}: could not handle '$channel $message' from $sentinel" }
        }
    }

    /** A replica event's replica, master name and master. */
    private fun instance(message: String): Triple<Address, String, Address> {
        val parts = message.split(" ")
        val at = parts.indexOf("@")
        return Triple(
            Address(parts[2], parts[3].toInt()),
            parts[at + 1],
            Address(parts[at + 2], parts[at + 3].toInt()),
        )
    }

    /**
     * A `+switch-master` from [sentinel], from [old] to [newAddress]. One that starts from the master cached now (or
     * from none) is acted on at once. One that starts elsewhere is not about the failover Picket followed last: a
     * late message of an earlier failover, or one that Picket missed. It carries no epoch, so the sentinels are
     * asked (their answers pass the epoch check), and the switch happens only if they name [newAddress].
     */
    private fun announcedSwitch(
        masterName: String,
        old: Address,
        newAddress: Address,
        sentinel: Address,
    ) {
        val current = state.known(masterName)
        if (current == null || current == old || current == newAddress) {
            resolver.switches.switchMaster(masterName, newAddress, sentinel)
            return
        }
        log.info { "group ${state.name}: $sentinel announces $masterName $old -> $newAddress, cached $current: asking" }
        scope.launch {
            val named =
                unlessCancelled({ e ->
                    log.info { "group ${state.name}: no answer to check $old -> $newAddress: ${e.message}" }
                    return@launch
                }) { resolver.askSentinels(masterName).first.address }
            // A switch followed meanwhile is newer than this check: leave it.
            if (named == newAddress && state.known(masterName) == current) {
                resolver.switches.switchMaster(masterName, newAddress, sentinel)
            } else {
                log.info { "group ${state.name}: ignored $masterName $old -> $newAddress, the sentinels name $named" }
                bus.emit(PicketEvent.SwitchIgnored(state.name, masterName, sentinel, old, newAddress, named))
            }
        }
    }

    private companion object {
        const val INITIAL_BACKOFF_MS = 100L

        /** The leader's announcements that a failover was given up. */
        val ABORTS =
            setOf("-failover-abort-not-elected", "-failover-abort-no-good-slave", "-failover-abort-slave-timeout")
        const val MAX_BACKOFF_MS = 5_000L

        /** Exactly the events Picket acts on. */
        val CHANNELS =
            arrayOf(
                "+switch-master",
                "+sentinel",
                "+sdown",
                "-sdown",
                "+slave",
                "+convert-to-slave",
                "+slave-reconf-done",
                "-role-change",
                "+role-change",
                "+selected-slave",
                "+promoted-slave",
                "+new-epoch",
            ) + ABORTS
    }
}
