-- grant.lua (fragment): what the scripts that may grant a lock share (Scripts.kt prepends it to acquire and
-- release). Defines the locals lock, fence, queue, waiting (KEYS[1..4]), t (the reply of TIME), now (ms), and:
--   head(self)                the queue's first live waiter and its hold ms, dropping dead ones on the way (a waiter
--                             renews its entry on every poll; one that stopped, its process gone, is skipped); the
--                             caller (self) counts as alive whatever its entry says
--   grant(to, hold, epoch)    gives the lock to token `to` for hold ms: raises the stored epoch to epoch, counts
--                             (counter + 1), stamps TIME; returns the fencing token (epoch, counter)
--   handOver(channel, epoch)  grants the lock to the first live waiter and publishes
--                             'granted <owner> <epoch> <counter> <sec> <usec>' on channel; false when nobody waits
--
-- KEYS[1]  <prefix><name>          hash, expires with the lease: owner, epoch, counter, sec, usec
-- KEYS[2]  <prefix><name>:fence    hash, never expires: epoch (the highest seen), counter (acquisitions)
-- KEYS[3]  <prefix><name>:queue    list: the waiters' owner tokens, in arrival order
-- KEYS[4]  <prefix><name>:waiting  hash: owner token -> 'holdMs:aliveUntilMs' (server time)

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
