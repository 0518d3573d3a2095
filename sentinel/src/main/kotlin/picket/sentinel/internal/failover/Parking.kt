package picket.sentinel.internal.failover

import kotlinx.coroutines.CompletableDeferred
import picket.core.Address
import picket.core.FailoverOutcome
import java.util.concurrent.atomic.AtomicInteger

/** A failover announced by its leader, during which new master blocks of its master name wait. */
internal class Parking(
    val oldAddress: Address,
    val candidate: Address,
    val sentinel: Address,
    /** The failover's epoch (the leader's last `+new-epoch`), which becomes the master's config-epoch; or null. */
    val epoch: Long?,
) {
    val startedAt: Long = System.nanoTime()

    /** Completed once, when the failover ends for Picket. */
    val outcome = CompletableDeferred<FailoverOutcome>()

    /** How many blocks waited. */
    val waiters = AtomicInteger()
}
