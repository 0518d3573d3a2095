package picket.mq.internal

import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.withTimeoutOrNull
import java.util.TreeSet
import java.util.concurrent.TimeUnit

/**
 * Cancels a worker's handlings whose lease deadline (local, monotonic) has passed: one coroutine ([run]) for all of
 * them, sleeping until the earliest deadline, instead of a timer per handling. A handling is tracked while it runs;
 * an extension moves its deadline, earlier or later.
 */
internal class LeaseReaper {
    /** One running handling: its [job] is cancelled, and [expired] set first, once [deadlineNanos] passes. */
    class Entry(
        deadlineNanos: Long,
        val job: Job,
        val seq: Long,
    ) {
        /** Written under the reaper's lock only (the entry's place in the order depends on it). */
        @Volatile
        var deadlineNanos: Long = deadlineNanos
            internal set

        @Volatile
        var expired: Boolean = false
            internal set
    }

    private val lock = Any()
    private val entries = TreeSet(compareBy<Entry>({ it.deadlineNanos }, { it.seq }))
    private var seq = 0L

    /** Signalled when a deadline earlier than the one the reaper sleeps towards appears. */
    private val wake = Channel<Unit>(Channel.CONFLATED)

    /** Tracks [job] until [untrack], cancelling it at [deadlineNanos] (on [System.nanoTime]'s clock). */
    fun track(
        deadlineNanos: Long,
        job: Job,
    ): Entry {
        val (entry, first) =
            synchronized(lock) {
                val entry = Entry(deadlineNanos, job, seq++)
                entries.add(entry)
                entry to (entries.first() === entry)
            }
        if (first) wake.trySend(Unit)
        return entry
    }

    /** Moves [entry]'s deadline to [deadlineNanos] (an extension); nothing if it already expired or ended. */
    fun move(
        entry: Entry,
        deadlineNanos: Long,
    ) {
        val first =
            synchronized(lock) {
                if (!entries.remove(entry)) return
                entry.deadlineNanos = deadlineNanos
                entries.add(entry)
                entries.first() === entry
            }
        if (first) wake.trySend(Unit)
    }

    /** The handling ended: no longer watched. */
    fun untrack(entry: Entry) {
        synchronized(lock) { entries.remove(entry) }
    }

    /** Cancels expired handlings as their deadlines pass, until cancelled. */
    suspend fun run() {
        while (true) {
            val now = System.nanoTime()
            val expired = ArrayList<Entry>()
            val next =
                synchronized(lock) {
                    while (entries.isNotEmpty() && entries.first().deadlineNanos <= now) {
                        expired += entries.pollFirst()!!.also { it.expired = true }
                    }
                    entries.firstOrNull()?.deadlineNanos
                }
            expired.forEach { it.job.cancel() }
            if (next == null) {
                wake.receive()
            } else {
                val ms = TimeUnit.NANOSECONDS.toMillis(next - now).coerceAtLeast(1)
                withTimeoutOrNull(ms) { wake.receive() }
            }
        }
    }
}
