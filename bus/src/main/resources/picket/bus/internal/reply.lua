-- reply.lua: ends a call: out of proc, the reply pushed (and the reply list's expiry set), the result cached if the
-- method caches. Computes now itself, only to cache (now.lua is not prepended).
--
-- KEYS[1]  <prefix>{n}:proc:<instance>      list: the calls the instance is running
-- KEYS[2]  <prefix>{n}:replies:<instance>   list: the caller's replies
-- KEYS[3]  <prefix>{n}:cache:<m>:<key>      string: the cached result (only for a method that caches)
-- KEYS[4]  <prefix>{n}:cached:<m>           sorted set: cache entry key -> expiry (ms; +inf: none) (with KEYS[3])
-- ARGV[1]  the request (as in proc)
-- ARGV[2]  the reply
-- ARGV[3]  retention ms
-- ARGV[4]  the value to cache (with KEYS[3])
-- ARGV[5]  its ttl ms, 0: none (with KEYS[3])
--
-- Returns 1.

redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if KEYS[3] then
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local ttl = tonumber(ARGV[5])
  if ttl > 0 then
    redis.call('SET', KEYS[3], ARGV[4], 'PX', ttl)
    redis.call('ZADD', KEYS[4], now + ttl, KEYS[3])
  else
    redis.call('SET', KEYS[3], ARGV[4])
    redis.call('ZADD', KEYS[4], '+inf', KEYS[3])
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
end
return 1
