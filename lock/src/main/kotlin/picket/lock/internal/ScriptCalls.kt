@file:OptIn(InternalPicketApi::class)

package picket.lock.internal

import io.lettuce.core.ScriptOutputType
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.Picket
import picket.core.PicketClosedException
import picket.core.internal.LuaScript
import picket.core.internal.runScript
import picket.core.internal.withConnOnEpoch
import picket.lock.LockHolder
import picket.lock.LockLease
import picket.lock.LockLostException
import picket.lock.LockOptions
import picket.lock.NotLockOwnerException
import java.time.Duration

/**
 * Every call of a lock's [Scripts] on the master of [spec]: an attempt (which may grant, queue up or leave the
 * queue), a release (which hands over), an extension and a look at the holder; each decodes its script's reply.
 * Attempts that may grant go through [acquireSpec] (the durability of [LockOptions.acquireDurability]) and pass the
 * master's config-epoch, which the fencing token needs.
 */
internal class ScriptCalls(
    private val picket: Picket,
    private val spec: ConnSpec,
    private val options: LockOptions,
    private val keys: LockKeys,
    private val closed: () -> Boolean,
) {
    private val acquireSpec = spec.withDurability(options.acquireDurability)

    /** One attempt by [owner], on the master (a leave needs no epoch and no durability: it never grants). */
    suspend fun attempt(
        name: String,
        owner: String,
        holdFor: Duration,
        mode: Mode,
    ): Outcome {
        if (closed() && mode != Mode.LEAVE) throw PicketClosedException()
        val alive = options.pollInterval.toMillis() * ALIVE_POLLS
        val reply =
            picket.withConnOnEpoch(if (mode == Mode.LEAVE) spec else acquireSpec) { epoch ->
                // A sentinel spec's master without a known epoch yet (just switched to) grants nothing.
                if (epoch == null && !spec.isDirect && mode != Mode.LEAVE) return@withConnOnEpoch null
                runScript<List<Any>>(
                    Scripts.ACQUIRE,
                    ScriptOutputType.MULTI,
                    keys.all(name),
                    owner,
                    holdFor.toMillis().toString(),
                    (epoch ?: 0L).toString(),
                    mode.code,
                    alive.toString(),
                    keys.channel(name),
                )
            } ?: return Outcome(null, 0L, epochUnknown = true)
        return if (reply[0] == 1L) {
            Outcome(grantedLease(name, owner, holdFor, reply[1], reply[2], reply[3], reply[4]), 0L)
        } else {
            Outcome(null, reply[1] as Long)
        }
    }

    /**
     * Releases [lease], handing the lock over to the first live waiter. True if it was held and is now free, false
     * if it had already expired.
     *
     * @throws NotLockOwnerException if another owner holds the lock now; nothing changes.
     */
    suspend fun release(lease: LockLease): Boolean {
        val result =
            picket.withConnOnEpoch(spec) { epoch ->
                // Without a known epoch no hand-over: the waiters are woken and the next attempt grants.
                val known = if (epoch == null && !spec.isDirect) UNKNOWN_EPOCH else (epoch ?: 0L)
                runScript<Long>(
                    Scripts.RELEASE,
                    ScriptOutputType.INTEGER,
                    keys.all(lease.name),
                    lease.owner,
                    keys.channel(lease.name),
                    known.toString(),
                )
            }
        return when (result) {
            1L -> true
            -1L -> throw NotLockOwnerException(lease.name, "release")
            else -> false
        }
    }

    /**
     * Extends [lease] to [holdFor] from now (server time).
     *
     * @throws LockLostException if it is no longer held.
     * @throws NotLockOwnerException if another owner holds the lock now.
     */
    suspend fun extend(
        lease: LockLease,
        holdFor: Duration,
    ): LockLease {
        val reply = multi(Scripts.EXTEND, arrayOf(keys.lease(lease.name)), lease.owner, holdFor.toMillis().toString())
        return when (reply.firstOrNull()) {
            1L -> lease.copy(serverTime = serverTime(reply[1], reply[2]), holdFor = holdFor)
            -1L -> throw NotLockOwnerException(lease.name, "extend")
            else -> throw LockLostException(lease.name, "it expired before it was extended")
        }
    }

    /** Extends [lease] for its own hold time: the watchdog's extension. */
    suspend fun extendAsHeld(lease: LockLease): LockLease = extend(lease, lease.holdFor)

    /** Who holds [name] now, or null if it is free. */
    suspend fun holder(name: String): LockHolder? {
        val reply = multi(Scripts.HOLDER, arrayOf(keys.lease(name), keys.queue(name)))
        if (reply.isEmpty()) return null
        return LockHolder(
            name,
            fencingToken(reply[0] as Long, reply[1] as Long),
            Duration.ofMillis(reply[2] as Long),
            (reply[3] as Long).toInt(),
        )
    }

    /** Runs [script] on the master with [keys] and [args], for its list of replies (empty if none). */
    @Suppress("SpreadOperator") // the script's arguments, built once per call
    private suspend fun multi(
        script: LuaScript,
        keys: Array<String>,
        vararg args: String,
    ): List<Any> = picket.withConn(spec) { runScript<List<Any>>(script, ScriptOutputType.MULTI, keys, *args) }.orEmpty()

    /** What an attempt does besides taking a free lock. */
    enum class Mode(
        val code: String,
    ) {
        /** Nothing: one attempt. */
        TRY("0"),

        /** Queue up (or renew this waiter's place). */
        QUEUE("1"),

        /** Leave the queue (a lease handed over already is returned). */
        LEAVE("2"),
    }

    /** What one attempt found: the lease, or how long the holder's lease lasts (ms), or no known epoch. */
    class Outcome(
        val lease: LockLease?,
        val holderTtl: Long,
        val epochUnknown: Boolean = false,
    )

    private companion object {
        /** `release.lua`'s "epoch not known yet": no hand-over, a `released` wake-up instead. */
        const val UNKNOWN_EPOCH = -1L

        /** A waiter that has not renewed its place for this many poll intervals is skipped by hand-overs. */
        const val ALIVE_POLLS = 3L
    }
}
