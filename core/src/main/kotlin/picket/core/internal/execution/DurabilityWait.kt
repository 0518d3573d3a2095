package picket.core.internal.execution

import io.lettuce.core.RedisCommandExecutionException
import kotlinx.coroutines.future.await
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.DurabilityException
import picket.core.engine.Lease

/** How often a durable master's own count of attached replicas (INFO replication) is read again. */
private const val COUNT_REFRESH_NANOS = 1_000_000_000L

/**
 * Waits, on the connection the block's writes went through, until the replicas [spec]'s [Durability] asks for have
 * them (`WAIT`), or fsynced them (`WAITAOF`); a [DurabilityException] otherwise. Blocks on replicas wait for nothing.
 */
internal suspend fun awaitDurability(
    spec: ConnSpec,
    lease: Lease,
) {
    val durability = spec.durability
    if (lease.isReplica) return
    val (required, timeout) =
        when (durability) {
            is Durability.None -> return
            is Durability.Replicas -> (durability.count ?: replicasToConfirm(lease)) to durability.timeout
            is Durability.Majority -> replicasToConfirm(lease) / 2 + 1 to durability.timeout
            is Durability.Aof -> return awaitAof(durability, lease)
        }
    if (required == 0) return
    val confirmed =
        lease.connection
            .async()
            .waitForReplication(required, timeout.toMillis())
            .await()
    if (confirmed < required) throw DurabilityException(lease.address, required, confirmed.toInt())
}

/** `WAITAOF`: the master (if asked) and the replicas fsync the block's writes, or a [DurabilityException]. */
private suspend fun awaitAof(
    durability: Durability.Aof,
    lease: Lease,
) {
    val required = durability.replicas ?: replicasToConfirm(lease)
    val reply =
        try {
            Aof.await(lease.connection, durability.local, required, durability.timeout.toMillis())
        } catch (e: RedisCommandExecutionException) {
            val reason =
                if (e.message.orEmpty().contains("unknown command", ignoreCase = true)) {
                    "the master does not know WAITAOF (Redis 7.2 or later has it)"
                } else {
                    "WAITAOF failed: ${e.message}"
                }
            throw DurabilityException(lease.address, required, 0, reason = reason)
        }
    val (local, replicas) = reply
    val fsyncedLocally = local >= 1
    if ((durability.local && !fsyncedLocally) || replicas < required) {
        val asked = if (durability.local) fsyncedLocally else null
        throw DurabilityException(lease.address, required, replicas.toInt(), asked)
    }
}

/**
 * How many replicas "every replica" means for [lease]'s master: the replicas the master itself has, in any
 * state (`connected_slaves` of INFO replication, read at most once a second), never fewer than were seen before
 * for the same master, and at least one.
 *
 * Each narrower view lost acknowledged writes in the failover specs. Sentinel's healthy view lags by up to 10 s
 * (it counted a restarted replica late). ROLE lists only replicas that are online, so a replica finishing a full
 * sync was left out, and a write confirmed by the other one was lost when that other one was resynced from the
 * promoted replica. The floor keeps the count from shrinking during a failover, when the replica being promoted
 * leaves the master.
 */
private suspend fun replicasToConfirm(lease: Lease): Int {
    val master = lease.master ?: return attachedReplicas(lease).coerceAtLeast(1)
    val now = System.nanoTime()
    val countedAt = master.replicasCountedAt
    var seen = 0
    if (countedAt == null || now - countedAt > COUNT_REFRESH_NANOS) {
        seen = attachedReplicas(lease)
        master.replicasCountedAt = now
    }
    return master.durableReplicas(seen).coerceAtLeast(1)
}

/** `connected_slaves` of the master's INFO replication. */
private suspend fun attachedReplicas(lease: Lease): Int =
    lease.connection
        .async()
        .info("replication")
        .await()
        .lineSequence()
        .firstOrNull { it.startsWith("connected_slaves:") }
        ?.substringAfter(':')
        ?.trim()
        ?.toIntOrNull()
        ?: 0
