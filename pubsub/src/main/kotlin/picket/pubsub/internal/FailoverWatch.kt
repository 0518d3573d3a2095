package picket.pubsub.internal

import picket.core.Address
import picket.core.ConnSpec
import picket.core.FailoverOutcome
import picket.core.PicketEvent
import picket.core.ReadFrom
import java.util.concurrent.atomic.AtomicLong

/**
 * What Picket's events say about the master of one listener's [spec]: a failover announced or aborted (for the
 * [gap]), and each switch, counted with where it went. A switch away from the node the listener [follows] (or while
 * it follows none, reconnecting) [wake]s it to move. A listener on a replica stays on its replica across a switch:
 * its node becomes a replica of the new master and keeps receiving. Direct specs have no such events.
 */
internal class FailoverWatch(
    private val spec: ConnSpec,
    private val gap: GapClock,
    private val follows: () -> Address?,
    private val wake: (String) -> Unit,
) {
    private val switches = AtomicLong()

    /** Where the last switch went, or null before the first. */
    @Volatile
    var lastSwitchTo: Address? = null
        private set

    /** How many switches of the listener's master were seen: a switch during a reconnect counts. */
    val switchCount: Long get() = switches.get()

    /** Told of every event of the listener's Picket. */
    fun onEvent(event: PicketEvent) {
        if (spec.isDirect || event.group != spec.sentinelGroup) return
        when (event) {
            is PicketEvent.FailoverStarted -> {
                if (event.masterName == spec.masterName) gap.failoverStarted()
            }

            is PicketEvent.FailoverEnded -> {
                // An aborted or timed-out failover moved nothing: it bounds no later gap.
                if (event.masterName == spec.masterName && event.outcome != FailoverOutcome.SWITCHED) {
                    gap.failoverAborted()
                }
            }

            is PicketEvent.SwitchMaster -> {
                onSwitch(event)
            }

            else -> {
                return
            }
        }
    }

    private fun onSwitch(event: PicketEvent.SwitchMaster) {
        // A replica subscription goes on across a switch: its node stays a replica of the new master.
        val following = follows()
        if (event.masterName != spec.masterName || spec.readFrom != ReadFrom.Master) return
        lastSwitchTo = event.newAddress
        switches.incrementAndGet()
        if (following == null || following == event.oldAddress) {
            wake("${event.masterName} switched to ${event.newAddress}")
        }
    }
}
