package picket.lock.internal

import picket.lock.LockLease
import java.time.Duration
import java.time.Instant
import java.util.concurrent.TimeUnit

/** The fencing token of a grant: the epoch in the high bits, the name's counter on that master in the low 40. */
internal fun fencingToken(
    epoch: Long,
    counter: Long,
): Long = (epoch shl EPOCH_SHIFT) or counter

/**
 * The lease a script (or a `granted` message) reported for [owner]: its fencing token from ([epoch], [counter]) and
 * the master's `TIME` ([seconds], [micros]) when it was granted.
 */
internal fun grantedLease(
    name: String,
    owner: String,
    holdFor: Duration,
    epoch: Any,
    counter: Any,
    seconds: Any,
    micros: Any,
): LockLease =
    LockLease(name, owner, fencingToken(epoch as Long, counter as Long), serverTime(seconds, micros), holdFor)

/** The master's `TIME` reply ([seconds], [micros]) as an instant. */
internal fun serverTime(
    seconds: Any,
    micros: Any,
): Instant = Instant.ofEpochSecond(seconds as Long, TimeUnit.MICROSECONDS.toNanos(micros as Long))

/** The epoch's place in a token: above the 40 bits of the per-name counter. */
private const val EPOCH_SHIFT = 40
