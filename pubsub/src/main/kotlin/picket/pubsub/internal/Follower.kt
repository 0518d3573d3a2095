package picket.pubsub.internal

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.isActive
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.PicketEvent
import picket.core.engine.PubSubAttachment
import picket.core.internal.Backoff
import picket.core.internal.ListenerBus
import picket.core.internal.openPubSub
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubEvent
import java.time.Duration
import java.time.Instant

private val log = KotlinLogging.logger {}

/**
 * Follows the node a listener's [spec] resolves to, until the listener closes: opens a connection there through
 * Picket's resolver, subscribes it to everything [wanted], emits [PubSubEvent.Connected] (or
 * [PubSubEvent.Resumed] with the [GapClock]'s gap), watches it ([Liveness]), and replaces it when the master
 * switches away from it ([FailoverWatch]), when it closes, or when a PING goes unanswered, emitting
 * [PubSubEvent.Disconnected]. A failed attempt is reported ([PubSubEvent.ReconnectFailed]) and the next one
 * backs off from [ListenerOptions.reconnectMin], doubling to [ListenerOptions.reconnectMax]; a switch cuts the wait
 * short.
 */
@OptIn(InternalPicketApi::class)
internal class Follower(
    private val picket: Picket,
    private val spec: ConnSpec,
    private val options: ListenerOptions,
    private val connection: CurrentConnection,
    private val wanted: WantedTopics,
    inbox: Inbox,
    private val events: ListenerBus<PubSubEvent, *>,
    private val isClosed: () -> Boolean,
) {
    /** Why the connection must be replaced now, or a reconnect wait cut short. */
    private val wake = Channel<String>(Channel.CONFLATED)
    private val gap = GapClock()
    private val liveness = Liveness(options, inbox, gap)
    private val callbacks = LettuceCallbacks(inbox, events)
    private val failovers = FailoverWatch(spec, gap, { connection.current?.address }, { wake.trySend(it) })

    @Volatile
    private var attemptToken: Any? = null

    @Volatile
    private var failedAttempts = 0

    /** Told of every event of the listener's Picket. */
    fun onPicketEvent(event: PicketEvent) {
        failovers.onEvent(event)
    }

    /** Stops following: a wait in progress ends. */
    fun close() {
        wake.close()
    }

    /** Connects, subscribes, watches the connection, and starts again when it must be replaced; until closed. */
    suspend fun follow() {
        var previous: Address? = null
        var gapStart: Instant? = null
        while (currentCoroutineContext().isActive && !isClosed()) {
            val switchesBefore = failovers.switchCount
            val attachment =
                try {
                    open() ?: continue
                } catch (e: PicketClosedException) {
                    log.debug(e) { "Picket closed under a pub/sub listener" }
                    return
                }
            connection.opened(attachment)
            val reason =
                try {
                    serve(attachment, previous, gapStart, switchesBefore)
                } finally {
                    connection.current = null
                    attemptToken = null
                    // A replaced connection delivers nothing more, even from an I/O thread still holding a message.
                    attachment.connection.removeListener(callbacks)
                    // Closed once: here, unless the listener's close took it first (Lettuce warns at a second close).
                    connection.release(attachment)
                }
            if (isClosed()) return
            gapStart = gap.gapStart()
            previous = attachment.address
            log.info { "pub/sub listener on ${attachment.address} for ${spec.target}: $reason; resubscribing" }
            events.emit(PubSubEvent.Disconnected(attachment.address, Instant.now(), reason))
        }
    }

    /**
     * A new connection, or null after a failed attempt and its back-off wait (cut short by a switch).
     *
     * @throws PicketClosedException if Picket was closed.
     */
    private suspend fun open(): PubSubAttachment? {
        // Only this attempt's connection may wake the listener when it closes, not one closed before.
        val token = Any()
        attemptToken = token
        return try {
            picket.openPubSub(spec) { if (attemptToken === token) wake.trySend("the connection closed") }
        } catch (e: PicketClosedException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            // Lettuce cancels commands of a connection it closes; only the listener's own cancellation ends it.
            e.failIfOwnCancellation()
            failedAttempts++
            val wait = backoff(failedAttempts)
            events.emit(PubSubEvent.ReconnectFailed(failedAttempts, e, wait))
            withTimeoutOrNull(wait.toMillis()) { wake.receiveCatching() }
            null
        }
    }

    /** Subscribes on [attachment], reports it, and watches it; returns why it must be replaced. */
    private suspend fun serve(
        attachment: PubSubAttachment,
        previous: Address?,
        gapStart: Instant?,
        switchesBefore: Long,
    ): String =
        try {
            attachment.connection.addListener(callbacks)
            val sentAt = wanted.subscribeAll(attachment) { adopt(attachment, switchesBefore) }
            val resumedAt = Instant.now()
            // Everything published after the server took the SUBSCRIBE arrives: the next gap starts no later.
            gap.subscribed(sentAt)
            failedAttempts = 0
            if (previous == null || gapStart == null) {
                events.emit(PubSubEvent.Connected(attachment.address, resumedAt))
            } else {
                events.emit(PubSubEvent.Resumed(attachment.address, previous, gapStart, resumedAt))
            }
            liveness.watch(attachment, wake)
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            // Lettuce cancels commands of a connection it closes; only the listener's own cancellation ends it.
            e.failIfOwnCancellation()
            if (isClosed()) "the listener closed" else "subscribing failed: ${e.message}"
        }

    /**
     * Makes [attachment], just subscribed, the current connection.
     *
     * @throws IllegalStateException if the master switched to another node since [switchesBefore] was read (the
     *   connection may be on the old master), or the connection closed meanwhile.
     */
    private fun adopt(
        attachment: PubSubAttachment,
        switchesBefore: Long,
    ) {
        if (failovers.switchCount != switchesBefore) {
            val to = failovers.lastSwitchTo
            check(to == attachment.address) { "the master switched to $to while subscribing" }
            // The switch went to this very node: its wake-up is stale.
            wake.tryReceive()
        }
        check(attachment.connection.isOpen) { "the connection closed while subscribing" }
        connection.current = attachment
    }

    private fun backoff(attempt: Int): Duration =
        Backoff.after(attempt, options.reconnectMin, options.reconnectMax, MAX_SHIFT)

    private companion object {
        const val MAX_SHIFT = 20
    }
}
