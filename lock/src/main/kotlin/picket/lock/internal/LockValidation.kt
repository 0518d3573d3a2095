package picket.lock.internal

import picket.core.InvalidSpecException
import java.time.Duration

/**
 * Checks a lock's arguments before anything is tried.
 *
 * @throws InvalidSpecException if [name] is blank, [holdFor] is under 1 ms or [waitFor] is negative.
 */
internal fun validateLock(
    name: String,
    holdFor: Duration,
    waitFor: Duration,
) {
    if (name.isBlank()) throw InvalidSpecException("lock name is blank")
    // Expiries are whole milliseconds on the server: PEXPIRE 0 would delete the lease at once.
    if (holdFor < Duration.ofMillis(1)) {
        throw InvalidSpecException("lock '$name' holdFor is $holdFor, must be at least 1 ms")
    }
    if (waitFor.isNegative) throw InvalidSpecException("lock '$name' waitFor is $waitFor, must be >= 0")
}
