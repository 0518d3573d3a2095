package picket.lock.internal

import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import picket.core.ConnSpec
import picket.core.Picket
import picket.pubsub.ListenerOptions
import picket.pubsub.PubSubListener
import picket.pubsub.PubSubMessage
import picket.pubsub.listen
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedDeque

/**
 * How the waiters of one `Locks` hear of a hand-over or a release: one pub/sub listener on [spec] (following
 * failovers, opened at the first wait), subscribed to the channel of every name that has waiters here. A
 * `granted <owner> …` message hands its lease to the waiter it names, a `released` one wakes the name's
 * longest-waiting waiter; both on the connection's I/O thread, without a dispatch in between.
 */
internal class WakeUps(
    private val picket: Picket,
    private val spec: ConnSpec,
    private val keys: LockKeys,
    private val closed: () -> Boolean,
) {
    /** The waiters of each name, longest-waiting first: a `released` message wakes the first. */
    private val waiters = ConcurrentHashMap<String, ConcurrentLinkedDeque<Waiter>>()

    /** The same waiters by owner token: a `granted` message hands its lease to the one it names. */
    private val byOwner = ConcurrentHashMap<String, Waiter>()
    private val subscriptionLock = Mutex()
    private val background = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("picket-locks"))
    private val listener: PubSubListener by lazy {
        // On the connection's I/O thread: a grant reaches its waiter without a dispatch in between.
        picket.listen(spec, emptyMap(), ListenerOptions(inlineHandler = ::onMessage))
    }

    @Volatile
    private var listening = false

    /**
     * Registers [waiter] and subscribes to its name's channel if it is the first waiter of that name here; returns
     * once the listener is connected (or the spec's command timeout passed), so that a hand-over published right
     * after the waiter queues up is heard.
     */
    suspend fun start(waiter: Waiter) {
        subscriptionLock.withLock {
            byOwner[waiter.owner] = waiter
            val queue = waiters.computeIfAbsent(waiter.name) { ConcurrentLinkedDeque() }
            queue.addLast(waiter)
            if (queue.size == 1) {
                listening = true
                listener.subscribe(keys.channel(waiter.name))
            }
        }
        // A listener still connecting (the first wait, or after a failover) has only recorded the channel: wait
        // for the connection, so a hand-over right after queueing up is heard. Not connected in time, the
        // waiter queues up all the same and finds a hand-over on its next attempt.
        if (!listener.isConnected) listener.awaitConnected(spec.commandTimeout)
    }

    /** Not suspending: a waiter that got its lease returns at once; the unsubscribing happens behind it. */
    fun stop(waiter: Waiter) {
        byOwner.remove(waiter.owner)
        val queue = waiters[waiter.name] ?: return
        queue.remove(waiter)
        // A `released` wake-up meant for this waiter goes to the next one.
        if (waiter.wake.tryReceive().isSuccess) queue.peekFirst()?.wake?.trySend(Unit)
        if (queue.isEmpty() && !closed()) {
            background.launch {
                subscriptionLock.withLock {
                    // Under the lock that adds waiters: a waiter that came meanwhile keeps the subscription.
                    if (waiters[waiter.name]?.isEmpty() == true) {
                        waiters.remove(waiter.name)
                        runCatching { listener.unsubscribe(keys.channel(waiter.name)) }
                    }
                }
            }
        }
    }

    /** Stops unsubscribing and closes the listener, if one was opened. */
    fun close() {
        background.cancel()
        if (listening) listener.close()
    }

    /** Takes [message] on the pub/sub connection's I/O thread: a grant to its waiter, a release to the first. */
    private fun onMessage(message: PubSubMessage): Boolean {
        val channel = message.channel
        if (!keys.isChannel(channel)) return false
        val parts = message.payload.split(' ')
        if (parts[0] == GRANTED && parts.size == GRANT_PARTS) {
            val waiter = byOwner[parts[1]] ?: return true
            val numbers = parts.drop(2).map { it.toLongOrNull() ?: return true }
            val lease =
                grantedLease(waiter.name, waiter.owner, waiter.holdFor, numbers[0], numbers[1], numbers[2], numbers[3])
            waiter.granted.compareAndSet(null, lease)
            waiter.wake.trySend(Unit)
        } else {
            waiters[keys.nameOf(channel)]?.peekFirst()?.wake?.trySend(Unit)
        }
        return true
    }

    private companion object {
        const val GRANTED = "granted"

        /** `granted <owner> <epoch> <counter> <sec> <usec>`. */
        const val GRANT_PARTS = 6
    }
}
