package picket.bench

import picket.testkit.WriteLoop
import java.util.SortedMap
import kotlin.coroutines.cancellation.CancellationException

/**
 * What the callers of a [WriteLoop] were told, as the failover benchmark reports it: each error by its class's simple
 * name, any cancellation that reached a caller as `CancellationException`.
 */
internal object WriteErrors {
    private const val MESSAGE_LENGTH = 300

    /** The name an error is counted under. */
    fun type(error: Throwable): String =
        if (error is CancellationException) {
            "CancellationException"
        } else {
            error::class.simpleName
                ?: error::class.java.name
        }

    /** How many of [writes] failed with each type of error. */
    fun counts(writes: List<WriteLoop.Write>): Map<String, Int> =
        writes.mapNotNull { it.error?.let(::type) }.groupingBy { it }.eachCount()

    /** The message (at most 300 characters) of the first error of each type among [writes], by type. */
    fun samples(writes: List<WriteLoop.Write>): SortedMap<String, String> {
        val samples = sortedMapOf<String, String>()
        writes.forEach { write ->
            write.error?.let { samples.putIfAbsent(type(it), it.message.orEmpty().take(MESSAGE_LENGTH)) }
        }
        return samples
    }
}
