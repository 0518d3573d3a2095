package picket.lock.internal

import picket.core.internal.LuaScript

/**
 * The Lua scripts: every state change of a lock is one atomic script, sent by its SHA-1 (`EVALSHA`) once the server
 * knows it. Each is a `.lua` file beside this one, in `lock/src/main/resources/picket/lock/internal/`, whose header
 * gives its KEYS, ARGV and reply; they are loaded once, when this object is first used. lock/README.md describes them
 * with the key layout ([LockKeys]): KEYS are a lock's lease, fencing state, queue of waiters and their entries
 * (`p n`, `p n:fence`, `p n:queue`, `p n:waiting`). Hand-over happens inside the scripts (`grant.lua`): a release,
 * or any attempt on a free lock, makes the first live waiter the owner and publishes
 * `granted owner epoch counter sec usec` on `p n:released`. [ScriptCalls] sends them.
 */
internal object Scripts {
    /**
     * `acquire.lua`: one attempt (mode 0), an attempt that queues up or renews the caller's place (1), or leaving
     * the queue (2). Returns {1, epoch, counter, sec, usec} when the caller holds the lock, else {0, pttl}.
     */
    val ACQUIRE: LuaScript = LuaScript.resource(javaClass, "grant.lua", "acquire.lua")

    /** `release.lua`: the owner releases, handing over to the first live waiter. 1 released, 0 not held, -1 other's. */
    val RELEASE: LuaScript = LuaScript.resource(javaClass, "grant.lua", "release.lua")

    /** `extend.lua`: the owner extends its lease. {1, sec, usec} extended, {0} not held, {-1} held by another. */
    val EXTEND: LuaScript = LuaScript.resource(javaClass, "extend.lua")

    /** `holder.lua`: {} when free, else {epoch, counter, pttl, queued}. */
    val HOLDER: LuaScript = LuaScript.resource(javaClass, "holder.lua")
}
