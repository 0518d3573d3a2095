-- beat.lua (after now.lua): an instance's heartbeat. Renews its leases (per method it owns or serves, and as an
-- instance if it has any); then, unless its own lease had lapsed (an outage: everybody's had), reaps instances whose
-- lease ran out more than a lease ago (16 at most per beat): answers their running calls (from their proc lists,
-- read with cjson) as lost (WorkerLostException), deletes their lists; and drops registrations left without a live
-- owner, and expired owners and workers.
--
-- KEYS[1]  <prefix>{n}:instances  sorted set: instance -> lease expiry (ms)
-- KEYS[2]  <prefix>{n}:methods    hash: method -> registry entry (JSON)
-- KEYS[3]  <prefix>{n}:index      set: the bus's keys
-- ARGV[1]  instance
-- ARGV[2]  lease ms
-- ARGV[3]  root, <prefix>{n}: (the owners:, workers:, proc: and replies: keys are built from it: a single master only)
-- ARGV[4]  retention ms (of a lost call's reply list)
-- ARGV[5]  number of owned methods
-- ARGV[6]  then the owned methods, then the served methods
--
-- Returns {now, owned methods missing from the registry...} (the instance registers those again).

local root = ARGV[3]
local owned = tonumber(ARGV[5])
local lease = tonumber(ARGV[2])
local expiry = now + lease
-- After an outage longer than the lease every lease has lapsed: the first to beat must not reap the
-- others, which beat again soon. So no reaping by an instance whose own lease had lapsed, and only of
-- instances whose lease ran out more than one lease ago.
local own = redis.call('ZSCORE', KEYS[1], ARGV[1])
local reap = not (own and tonumber(own) < now)
local cutoff = now - lease
if #ARGV > 5 then redis.call('ZADD', KEYS[1], expiry, ARGV[1]) end
local missing = {}
for i = 6, #ARGV do
  local m = ARGV[i]
  if i < 6 + owned then
    redis.call('ZADD', root .. 'owners:' .. m, expiry, ARGV[1])
    if redis.call('HEXISTS', KEYS[2], m) == 0 then missing[#missing + 1] = m end
  else
    redis.call('ZADD', root .. 'workers:' .. m, expiry, ARGV[1])
  end
end
if not reap then return {now, unpack(missing)} end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, 16)
for _, d in ipairs(dead) do
  local proc = root .. 'proc:' .. d
  for _, e in ipairs(redis.call('LRANGE', proc, 0, -1)) do
    local ok, req = pcall(cjson.decode, e)
    if ok and type(req) == 'table' and type(req.replyTo) == 'string' and type(req.id) == 'string' then
      redis.call('LPUSH', req.replyTo, cjson.encode({id = req.id, ok = false, error = {kind = 'lost',
        type = 'picket.bus.WorkerLostException',
        message = 'its lease ran out with the call running (instance ' .. d .. ')'}}))
      redis.call('PEXPIRE', req.replyTo, ARGV[4])
    end
  end
  redis.call('DEL', proc, root .. 'replies:' .. d)
  redis.call('SREM', KEYS[3], proc, root .. 'replies:' .. d)
  redis.call('ZREM', KEYS[1], d)
end
for _, m in ipairs(redis.call('HKEYS', KEYS[2])) do
  local owners = root .. 'owners:' .. m
  redis.call('ZREMRANGEBYSCORE', owners, '-inf', cutoff)
  redis.call('ZREMRANGEBYSCORE', root .. 'workers:' .. m, '-inf', cutoff)
  if redis.call('ZCARD', owners) == 0 then redis.call('HDEL', KEYS[2], m) end
end
return {now, unpack(missing)}
