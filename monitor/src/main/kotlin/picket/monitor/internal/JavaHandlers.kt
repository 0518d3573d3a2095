package picket.monitor.internal

import kotlinx.coroutines.CoroutineDispatcher
import kotlin.coroutines.AbstractCoroutineContextElement
import kotlin.coroutines.CoroutineContext

/**
 * In the context of a [picket.monitor.Monitor]'s watcher coroutines: the dispatcher the Java code a watcher calls
 * runs on (the instance's handler executor, `picket.handlers()`), so that `NodeWatcher.polling`, made without a
 * Picket, still runs its supplier where the instance runs the user's Java code.
 */
internal class JavaHandlers(
    val dispatcher: CoroutineDispatcher,
) : AbstractCoroutineContextElement(Key) {
    companion object Key : CoroutineContext.Key<JavaHandlers>
}
