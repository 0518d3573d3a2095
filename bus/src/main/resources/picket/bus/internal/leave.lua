-- leave.lua: a graceful leave. The instance's leases go, registrations it alone owned too, and its own lists.
--
-- KEYS[1]  <prefix>{n}:instances  sorted set: instance -> lease expiry (ms)
-- KEYS[2]  <prefix>{n}:methods    hash: method -> registry entry (JSON)
-- KEYS[3]  <prefix>{n}:index      set: the bus's keys
-- ARGV[1]  instance
-- ARGV[2]  root, <prefix>{n}: (owners:<m>, workers:<m>, proc:<instance>, replies:<instance> are built from it)
-- ARGV[3]  number of owned methods
-- ARGV[4]  then the owned methods, then the served methods
--
-- Returns 1.

local root = ARGV[2]
local owned = tonumber(ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 4, #ARGV do
  local m = ARGV[i]
  if i < 4 + owned then
    local owners = root .. 'owners:' .. m
    redis.call('ZREM', owners, ARGV[1])
    if redis.call('ZCARD', owners) == 0 then redis.call('HDEL', KEYS[2], m) end
  else
    redis.call('ZREM', root .. 'workers:' .. m, ARGV[1])
  end
end
local proc = root .. 'proc:' .. ARGV[1]
local replies = root .. 'replies:' .. ARGV[1]
redis.call('DEL', proc, replies)
redis.call('SREM', KEYS[3], proc, replies)
return 1
