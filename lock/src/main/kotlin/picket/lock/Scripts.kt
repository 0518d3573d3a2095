package picket.lock

import picket.core.internal.LuaScript

/**
 * The Lua scripts: every state change of a lock is one atomic script, sent by its SHA-1 (`EVALSHA`) once the server
 * knows it. Documented, with the key layout, in lock/README.md.
 *
 * Keys of a lock `n` (prefix `p`): `p n` the lease (hash: owner, epoch, counter, sec, usec; expires with the lease),
 * `p n:fence` the fencing state (hash: epoch, counter; never expires), `p n:queue` the waiters in arrival order
 * (list of owner tokens) and `p n:waiting` each waiter's hold time and how long it counts as alive (hash
 * owner → "holdMs:aliveUntilMs", server time). A waiter renews its entry on every poll; one that stopped renewing
 * (its process died) is skipped. Hand-over happens inside the scripts: a release, or any attempt on a free lock,
 * makes the first live waiter the owner and publishes `granted owner epoch counter sec usec` on `p n:released`.
 */
internal object Scripts {
    /** Shared by the scripts that may grant: the server's time, the queue's first live waiter, a grant. */
    private const val COMMON: String = """
local lock, fence, queue, waiting = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function head(self)
  while true do
    local w = redis.call('LINDEX', queue, 0)
    if not w then return nil end
    local e = redis.call('HGET', waiting, w)
    local sep = e and string.find(e, ':', 1, true)
    local alive = sep and tonumber(string.sub(e, sep + 1))
    -- The caller is alive whatever its entry says (a renewal that came late).
    if alive and (alive >= now or w == self) then return w, string.sub(e, 1, sep - 1) end
    if e then redis.call('HDEL', waiting, w) end
    redis.call('LPOP', queue)
  end
end
local function grant(to, hold, epochArg)
  local epoch = tonumber(epochArg)
  local stored = tonumber(redis.call('HGET', fence, 'epoch') or '0')
  if epoch > stored then
    redis.call('HSET', fence, 'epoch', epoch)
    stored = epoch
  end
  local counter = redis.call('HINCRBY', fence, 'counter', 1)
  redis.call('HSET', lock, 'owner', to, 'epoch', stored, 'counter', counter, 'sec', t[1], 'usec', t[2])
  redis.call('PEXPIRE', lock, hold)
  return stored, counter
end
local function handOver(channel, epochArg)
  local w, hold = head(nil)
  if not w then return false end
  redis.call('LPOP', queue)
  redis.call('HDEL', waiting, w)
  local e, c = grant(w, hold, epochArg)
  redis.call('PUBLISH', channel, 'granted ' .. w .. ' ' .. e .. ' ' .. c .. ' ' .. t[1] .. ' ' .. t[2])
  return true
end
"""

    /**
     * KEYS: lock, fence, queue, waiting. ARGV: owner, hold ms, epoch, mode (0: one attempt, 1: attempt and queue
     * up or renew, 2: leave the queue), alive ms, channel. Returns {1, epoch, counter, sec, usec} when [owner] holds
     * it (granted now, or handed over earlier), else {0, pttl}. A free lock goes to the queue's first live waiter
     * before anyone else (who then queues behind, in mode 1).
     */
    val ACQUIRE: LuaScript =
        LuaScript(
            COMMON +
                """
local owner, mode = ARGV[1], tonumber(ARGV[4])
local holder = redis.call('HGET', lock, 'owner')
if holder == owner then
  -- Handed over earlier. A write, so that a durable caller's WAIT covers the hand-over too.
  local pttl = redis.call('PTTL', lock)
  if pttl > 0 then redis.call('PEXPIRE', lock, pttl) end
  local f = redis.call('HMGET', lock, 'epoch', 'counter', 'sec', 'usec')
  return {1, tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])}
end
if mode == 2 then
  if redis.call('HDEL', waiting, owner) == 1 then redis.call('LREM', queue, 1, owner) end
  return {0, redis.call('PTTL', lock)}
end
if not holder then
  local w = head(owner)
  if not w or w == owner then
    if w then
      redis.call('LPOP', queue)
      redis.call('HDEL', waiting, owner)
    end
    local e, c = grant(owner, ARGV[2], ARGV[3])
    return {1, e, c, tonumber(t[1]), tonumber(t[2])}
  end
  handOver(ARGV[6], ARGV[3])
end
if mode == 1 then
  local alive = tonumber(ARGV[5])
  if redis.call('HSET', waiting, owner, ARGV[2] .. ':' .. (now + alive)) == 1 then
    redis.call('RPUSH', queue, owner)
  end
  if redis.call('PTTL', queue) < alive then
    redis.call('PEXPIRE', queue, alive)
    redis.call('PEXPIRE', waiting, alive)
  end
end
return {0, redis.call('PTTL', lock)}
""",
        )

    /**
     * KEYS: lock, fence, queue, waiting. ARGV: owner, channel, epoch (-1: unknown, no hand-over: the waiters are
     * woken with `released` and the next attempt grants). Returns 1 released, 0 not held, -1 held by another.
     */
    val RELEASE: LuaScript =
        LuaScript(
            COMMON +
                """
local holder = redis.call('HGET', lock, 'owner')
if not holder then return 0 end
if holder ~= ARGV[1] then return -1 end
redis.call('DEL', lock)
if ARGV[3] == '-1' then
  if redis.call('LLEN', queue) > 0 then redis.call('PUBLISH', ARGV[2], 'released') end
else
  handOver(ARGV[2], ARGV[3])
end
return 1
""",
        )

    /** KEYS: lock. ARGV: owner, hold ms. Returns {1, sec, usec} extended, {0} not held, {-1} held by another. */
    val EXTEND: LuaScript =
        LuaScript(
            """
local holder = redis.call('HGET', KEYS[1], 'owner')
if not holder then return {0} end
if holder ~= ARGV[1] then return {-1} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
return {1, tonumber(t[1]), tonumber(t[2])}
""",
        )

    /** KEYS: lock, queue. Returns {} when free, else {epoch, counter, pttl, queued}. */
    val HOLDER: LuaScript =
        LuaScript(
            """
local fields = redis.call('HMGET', KEYS[1], 'epoch', 'counter')
if not fields[1] then return {} end
return {tonumber(fields[1]), tonumber(fields[2]), redis.call('PTTL', KEYS[1]), redis.call('LLEN', KEYS[2])}
""",
        )
}
