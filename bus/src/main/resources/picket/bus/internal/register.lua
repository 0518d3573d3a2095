-- register.lua (after now.lua): registers a method for this instance and leases it. Refused while another
-- definition of the method has a live owner. An entry that is not the one stored (a new definition, or the method
-- registered anew after every owner left) drops the method's cached results: they may be another function's.
--
-- KEYS[1]  <prefix>{n}:methods      hash: method -> registry entry (JSON)
-- KEYS[2]  <prefix>{n}:owners:<m>   sorted set: instance -> lease expiry (ms)
-- KEYS[3]  <prefix>{n}:instances    sorted set: instance -> lease expiry (ms)
-- KEYS[4]  <prefix>{n}:index        set: the bus's keys, for cleanup()
-- KEYS[5]  <prefix>{n}:cached:<m>   sorted set: cache entry key -> expiry (ms)
-- ARGV[1]  method
-- ARGV[2]  registry entry (JSON)
-- ARGV[3]  instance
-- ARGV[4]  lease ms
-- ARGV[5]  then keys to add to the index: the method's queue, workers and cached set, the instance's proc and
--          replies lists
--
-- Returns {1} registered, or {0, the entry stored} refused.

local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing and existing ~= ARGV[2] then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) > 0 then return {0, existing} end
end
if existing ~= ARGV[2] then
  for _, k in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do redis.call('DEL', k) end
  redis.call('DEL', KEYS[5])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local expiry = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], expiry, ARGV[3])
redis.call('ZADD', KEYS[3], expiry, ARGV[3])
redis.call('SADD', KEYS[4], KEYS[1], KEYS[2], KEYS[3])
for i = 5, #ARGV do redis.call('SADD', KEYS[4], ARGV[i]) end
return {1}
