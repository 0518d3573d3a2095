package picket.sentinel.internal.failover

import io.github.oshai.kotlinlogging.KotlinLogging
import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.launch
import picket.core.Address
import picket.core.PicketEvent
import picket.core.internal.events.EventBus
import picket.sentinel.internal.resolution.MasterEntry
import java.util.concurrent.atomic.AtomicBoolean

private val log = KotlinLogging.logger {}

/** Where a master's replication stream stood: its replication id and offset. */
internal data class ReplicationMark(
    val replid: String,
    val offset: Long,
)

/**
 * What one reading of a master said: its dataset-change counter (`rdb_changes_since_last_save`, Redis's `dirty`)
 * and the time of its last save (a save resets the counter), then its replication stream.
 */
internal data class MasterReading(
    val changes: Long,
    val lastSave: Long,
    val mark: ReplicationMark,
)

/**
 * Loss detection. After blocks succeed on a master, the master is read (INFO persistence, then INFO replication) on
 * the same connection, off the callers' path and at most once per [SPACING_MS]. The replication offset becomes the
 * mark only if the master's dataset changed since the previous reading (or there was none): then the mark is at or
 * after the last acknowledged write. Otherwise the mark stays where it was, since nothing acknowledged can lie
 * beyond it: the stream also carries what is not a write (the sentinels' hello messages, the master's pings to its
 * replicas, the expiries it propagates), and a mark taken after a read, a blocking read that timed out or a block
 * of Picket's own would count those bytes as writes that a failover lost.
 *
 * After a switch, the new master's `master_replid2` / `second_repl_offset` say how much of the old master's stream
 * it has; acknowledged writes beyond that cannot be on it, and [PicketEvent.DataLossSuspected] says so.
 */
internal class LossWatch(
    private val scope: CoroutineScope,
    private val bus: EventBus,
) {
    /** Per master entry: whether a block succeeded since the last reading, and whether one is being read. */
    class Marks {
        val pending = AtomicBoolean(false)
        val reading = AtomicBoolean(false)

        /** The replication offset at or after the last write acknowledged on the master; null before any. */
        @Volatile
        var last: ReplicationMark? = null

        /** The previous reading, to tell whether the dataset changed since. */
        @Volatile
        var previous: MasterReading? = null

        /** Takes [reading]: the mark moves to its offset only if the dataset changed since the previous reading. */
        fun take(reading: MasterReading) {
            val before = previous
            previous = reading
            val changed =
                before == null ||
                    reading.changes != before.changes ||
                    reading.lastSave != before.lastSave ||
                    reading.mark.replid != before.mark.replid
            if (changed) last = reading.mark
        }
    }

    /** A block succeeded on [entry] over [connection]: make sure a mark is read after it. */
    fun acknowledged(
        entry: MasterEntry,
        connection: StatefulRedisConnection<String, String>,
    ) {
        val marks = entry.marks
        marks.pending.set(true)
        if (!marks.reading.compareAndSet(false, true)) return
        scope.launch {
            try {
                while (marks.pending.getAndSet(false)) {
                    marks.take(read(connection) ?: break)
                    delay(SPACING_MS)
                }
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                // The connection went away (a switch closes it): the last mark stands.
                log.debug { "replication mark of ${entry.address}: ${e.message}" }
            } finally {
                marks.reading.set(false)
            }
            // A block that succeeded while the flag was being cleared asks again.
            if (marks.pending.get() && connection.isOpen) acknowledged(entry, connection)
        }
    }

    /**
     * Compares [old]'s last mark with what [newMaster] (over [connection]) has of the old stream and emits
     * [PicketEvent.DataLossSuspected] if acknowledged writes cannot be on it.
     */
    suspend fun check(
        group: String,
        masterName: String,
        old: MasterEntry,
        newMaster: Address,
        connection: StatefulRedisConnection<String, String>,
    ) {
        val mark = old.marks.last ?: return // nothing acknowledged on the old master
        val info = fields(connection.async().info("replication").await())
        val replid2 = info["master_replid2"]
        val secondOffset = info["second_repl_offset"]?.toLongOrNull()
        val (gap, reason) =
            when {
                replid2 == mark.replid && secondOffset != null && secondOffset > 0 -> {
                    // The new master has the old stream up to second_repl_offset - 1.
                    val gap = mark.offset - (secondOffset - 1)
                    if (gap <= 0) return
                    gap to "the new master took over the old stream at offset ${secondOffset - 1}, " +
                        "acknowledged writes reached offset ${mark.offset}"
                }

                info["master_replid"] == mark.replid -> {
                    return // the same stream: nothing was cut
                }

                else -> {
                    null to "the new master's stream (replid2 $replid2) is not the old master's (${mark.replid})"
                }
            }
        log.warn { "group $group: $masterName ${old.address} -> $newMaster: data loss suspected: $reason" }
        bus.emit(PicketEvent.DataLossSuspected(group, masterName, old.address, newMaster, gap, reason))
    }

    /**
     * Reads the master: the dataset-change counter first, then the offset, in that order on one connection, so that
     * every write the counter shows is within the offset.
     */
    private suspend fun read(connection: StatefulRedisConnection<String, String>): MasterReading? {
        val commands = connection.async()
        val persistence = commands.info("persistence")
        val replication = commands.info("replication")
        val changes = fields(persistence.await())
        val info = fields(replication.await())
        val replid = info["master_replid"] ?: return null
        val offset = info["master_repl_offset"]?.toLongOrNull() ?: return null
        return MasterReading(
            // A node that does not say counts as changed every time: the mark then follows every block, as before.
            changes = changes["rdb_changes_since_last_save"]?.toLongOrNull() ?: offset,
            lastSave = changes["rdb_last_save_time"]?.toLongOrNull() ?: 0L,
            mark = ReplicationMark(replid, offset),
        )
    }

    private fun fields(info: String): Map<String, String> =
        info
            .lineSequence()
            .map { it.trim() }
            .filter { ':' in it && !it.startsWith("#") }
            .associate { it.substringBefore(':') to it.substringAfter(':') }

    private companion object {
        /** At most one INFO replication per master every 10 ms, however many blocks succeed. */
        const val SPACING_MS = 10L
    }
}
