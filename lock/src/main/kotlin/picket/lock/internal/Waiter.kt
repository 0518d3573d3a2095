package picket.lock.internal

import kotlinx.coroutines.channels.Channel
import picket.lock.LockLease
import java.time.Duration
import java.util.concurrent.atomic.AtomicReference

/** One waiting acquire: its [owner] token is its place in the lock's queue on the server. */
internal class Waiter(
    val name: String,
    val owner: String,
    val holdFor: Duration,
    val waitFor: Duration,
) {
    /** Set by a `granted` message ([WakeUps]) before [wake] is signalled. */
    val granted = AtomicReference<LockLease?>()

    /** Conflated: a wake-up signalled while the waiter is busy is kept for its next wait. */
    val wake = Channel<Unit>(Channel.CONFLATED)
}
