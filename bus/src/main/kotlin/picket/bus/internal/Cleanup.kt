@file:Suppress("SpreadOperator") // Lettuce's DEL takes keys as varargs; a page of them per call

package picket.bus.internal

import io.lettuce.core.ScanArgs
import io.lettuce.core.ScanCursor
import kotlinx.coroutines.flow.toList

private const val SCAN_PAGE = 500L

/**
 * Deletes every key of [bus]'s name: the `index` set names them, the per-method `cached` sets name the cache
 * entries; never `KEYS`, never a keyspace `SCAN`. Returns how many keys were deleted.
 */
internal suspend fun cleanup(bus: RealBus): Long {
    bus.checkOpen()
    val keys = bus.keys
    var deleted = 0L
    bus.picket.withConn(bus.spec) {
        val indexed = mutableSetOf<String>()
        var cursor: ScanCursor = ScanCursor.INITIAL
        do {
            val page = sscan(keys.index, cursor, ScanArgs.Builder.limit(SCAN_PAGE))!!
            indexed += page.values
            cursor = page
        } while (!page.isFinished)
        val methods = hkeys(keys.methods).toList()
        indexed += methods.flatMap { listOf(keys.queue(it), keys.owners(it), keys.workers(it), keys.cached(it)) }
        indexed += listOf(keys.settings, keys.methods, keys.instances)
        indexed.filter { it.startsWith(keys.root + "cached:") }.forEach { cachedSet ->
            var start = 0L
            while (true) {
                val page = zrange(cachedSet, start, start + SCAN_PAGE - 1).toList()
                if (page.isEmpty()) break
                deleted += del(*page.toTypedArray()) ?: 0
                start += SCAN_PAGE
            }
        }
        indexed.chunked(SCAN_PAGE.toInt()).forEach { chunk -> deleted += del(*chunk.toTypedArray()) ?: 0 }
        deleted += del(keys.index) ?: 0
    }
    bus.registry.forget()
    // The settings stay known here: forgetting them would make this instance's next heartbeat or call run INIT,
    // which writes the settings and the index back (a cleaned bus must stay clean while this instance lives).
    return deleted
}
