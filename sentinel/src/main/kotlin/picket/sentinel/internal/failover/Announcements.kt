package picket.sentinel.internal.failover

import io.github.oshai.kotlinlogging.KotlinLogging
import picket.core.Address
import java.util.concurrent.CopyOnWriteArrayList

private val log = KotlinLogging.logger {}

/** A sentinel's announcement as it arrived: its group, the sentinel, the channel and the message. */
internal typealias AnnouncementListener = (group: String, sentinel: Address, channel: String, message: String) -> Unit

/**
 * The listeners of raw sentinel announcements, for Picket's own modules (the monitor follows `+switch-master`,
 * `+slave` and `+sentinel` for master names no block uses). Called on the subscription's I/O thread, before Picket
 * acts on the announcement: listeners must be fast; one that throws is logged.
 */
internal class Announcements {
    private val listeners = CopyOnWriteArrayList<AnnouncementListener>()

    fun register(listener: AnnouncementListener): AutoCloseable {
        listeners += listener
        return AutoCloseable { listeners -= listener }
    }

    fun deliver(
        group: String,
        sentinel: Address,
        channel: String,
        message: String,
    ) {
        listeners.forEach {
            try {
                it(group, sentinel, channel, message)
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                log.warn(e) { "an announcement listener threw on '$channel $message' from $sentinel" }
            }
        }
    }
}
