package picket.lock

/** The Lua scripts: every state change of a lock is one atomic script. Documented in lock/README.md. */
internal object Scripts {
    /**
     * KEYS: lock, fence. ARGV: owner, hold ms, epoch (-1: none). Returns {1, epoch, counter, sec, usec} when granted,
     * {0, pttl} when another owner holds it.
     */
    const val ACQUIRE: String = """
local holder = redis.call('HGET', KEYS[1], 'owner')
if holder then
  return {0, redis.call('PTTL', KEYS[1])}
end
local epoch = tonumber(ARGV[3])
local stored = tonumber(redis.call('HGET', KEYS[2], 'epoch') or '0')
if epoch > stored then
  redis.call('HSET', KEYS[2], 'epoch', epoch)
  stored = epoch
end
local counter = redis.call('HINCRBY', KEYS[2], 'counter', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', stored, 'counter', counter)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
return {1, stored, counter, tonumber(t[1]), tonumber(t[2])}
"""

    /** KEYS: lock. ARGV: owner, channel. Returns 1 released (and published), 0 not held, -1 held by another. */
    const val RELEASE: String = """
local holder = redis.call('HGET', KEYS[1], 'owner')
if not holder then return 0 end
if holder ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'released')
return 1
"""

    /** KEYS: lock. ARGV: owner, hold ms. Returns {1, sec, usec} extended, {0} not held, {-1} held by another. */
    const val EXTEND: String = """
local holder = redis.call('HGET', KEYS[1], 'owner')
if not holder then return {0} end
if holder ~= ARGV[1] then return {-1} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
return {1, tonumber(t[1]), tonumber(t[2])}
"""

    /** KEYS: lock. Returns {} when free, else {epoch, counter, pttl}. */
    const val HOLDER: String = """
local fields = redis.call('HMGET', KEYS[1], 'epoch', 'counter')
if not fields[1] then return {} end
return {tonumber(fields[1]), tonumber(fields[2]), redis.call('PTTL', KEYS[1])}
"""
}
