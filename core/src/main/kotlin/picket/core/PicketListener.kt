package picket.core

import picket.core.PicketEvent

/**
 * Receives [PicketEvent]s in the order they happen, on Picket's own event coroutine, never under a resolution
 * lock. It must be fast and must not throw: one that throws is logged and the others still run.
 */
public fun interface PicketListener {
    /** Called once per event. */
    public fun onEvent(event: PicketEvent)
}
