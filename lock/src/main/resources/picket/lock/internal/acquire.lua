-- acquire.lua (after grant.lua): one attempt at a lock. Already the owner (handed over earlier): that lease. Free
-- and nobody live queued, or the caller first in the queue: granted. Free with another waiter first: handed over
-- to that waiter, not to the caller (who then queues behind, in mode 1). Mode 1 adds or renews the caller's entry
-- in the queue; mode 2 only removes it.
--
-- KEYS[1]  <prefix><name>          hash, expires with the lease: owner, epoch, counter, sec, usec
-- KEYS[2]  <prefix><name>:fence    hash, never expires: epoch (the highest seen), counter (acquisitions)
-- KEYS[3]  <prefix><name>:queue    list: the waiters' owner tokens, in arrival order
-- KEYS[4]  <prefix><name>:waiting  hash: owner token -> 'holdMs:aliveUntilMs' (server time)
-- ARGV[1]  owner: the caller's token
-- ARGV[2]  hold ms
-- ARGV[3]  epoch: the master's config epoch as the caller knows it (0: a direct spec, or mode 2)
-- ARGV[4]  mode: 0 one attempt, 1 attempt and queue up (or renew), 2 leave the queue
-- ARGV[5]  alive ms: how long the caller's queue entry counts as alive without a renewal
-- ARGV[6]  channel, <prefix><name>:released (for a hand-over)
--
-- Returns {1, epoch, counter, sec, usec} when the caller holds it (granted now, or handed over earlier), else
-- {0, pttl of the lease}.

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
