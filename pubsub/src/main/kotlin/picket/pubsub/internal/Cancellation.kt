package picket.pubsub.internal

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive

/**
 * Rethrows if this is the caller's own cancellation. Lettuce also cancels the commands of a connection it closes:
 * that is a failure of the connection, to be handled as such.
 */
internal suspend fun Exception.failIfOwnCancellation() {
    if (this is CancellationException) currentCoroutineContext().ensureActive()
}
