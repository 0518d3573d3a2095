package picket.sentinel.internal.resolution

import picket.core.InvalidSpecException
import picket.core.SentinelGroup
import picket.core.SentinelGroupUnknownException
import java.util.concurrent.ConcurrentHashMap

/**
 * The sentinel groups an instance declares, each running ([GroupRuntime]) while declared. Changes are atomic: a
 * declaration that is refused changes nothing. [start] makes the runtime of a newly declared group; [checkOpen]
 * throws once the instance is closed.
 */
internal class DeclaredGroups(
    private val start: (String, SentinelGroup) -> GroupRuntime,
    private val checkOpen: () -> Unit,
) {
    private val groups = ConcurrentHashMap<String, GroupRuntime>()
    private val lock = Any()

    /** Declares exactly [declared]: the others are removed, those named are replaced in full. */
    fun set(declared: Map<String, SentinelGroup>) {
        validate(declared)
        synchronized(lock) {
            checkOpen()
            groups.keys.toList().forEach { remove(it) }
            declared.forEach { (name, config) -> groups[name] = start(name, config) }
        }
    }

    /** Declares [declared] beside the existing groups; none of them may be declared already. */
    fun add(declared: Map<String, SentinelGroup>) {
        validate(declared)
        synchronized(lock) {
            checkOpen()
            val taken = declared.keys.filter { groups.containsKey(it) }
            if (taken.isNotEmpty()) throw InvalidSpecException("sentinel groups already declared: ${taken.sorted()}")
            declared.forEach { (name, config) -> groups[name] = start(name, config) }
        }
    }

    /**
     * Removes [name], closing its subscriptions and its connections except those another group still uses; false
     * if it was not declared.
     */
    fun remove(name: String): Boolean {
        synchronized(lock) {
            val runtime = groups.remove(name) ?: return false
            runtime.close(stillUsed = groups.values.flatMapTo(mutableSetOf()) { it.addresses() })
        }
        return true
    }

    fun names(): Set<String> = groups.keys.toSet()

    /** Every declared group, now. */
    fun all(): List<GroupRuntime> = groups.values.toList()

    /** The group declared as [name], or null. */
    fun find(name: String): GroupRuntime? = groups[name]

    /** The group declared as [name]; [SentinelGroupUnknownException] naming the declared ones if none is. */
    fun get(name: String): GroupRuntime {
        checkOpen()
        return groups[name] ?: throw SentinelGroupUnknownException(name, groups.keys.toSet())
    }

    /** Closes every group: the instance closes. */
    fun closeAll() {
        synchronized(lock) {
            groups.values.forEach { it.close() }
            groups.clear()
        }
    }

    private fun validate(declared: Map<String, SentinelGroup>) {
        declared.keys.forEach { if (it.isBlank()) throw InvalidSpecException("a sentinel group name is blank") }
    }
}
