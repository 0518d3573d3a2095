-- start.lua (after now.lua): an idle worker's start of a call it took with BRPOP. The caller's deadline passed:
-- skip. Cached meanwhile: reply with that. Else recorded as running on this instance (proc).
--
-- KEYS[1]  <prefix>{n}:proc:<instance>  list: the calls the instance is running
-- KEYS[2]  <prefix>{n}:cache:<m>:<key>  string: the cached result (only for a request with a cache key)
-- ARGV[1]  the request (as queued)
-- ARGV[2]  its deadline (ms, master's clock)
-- ARGV[3]  retention ms
--
-- Returns {0} deadline passed, {2, value} cached meanwhile, {1} recorded as running.

local deadline = tonumber(ARGV[2])
if now > deadline then return {0} end
if KEYS[2] then
  local v = redis.call('GET', KEYS[2])
  if v then return {2, v} end
end
redis.call('LPUSH', KEYS[1], ARGV[1])
local keep = deadline - now + tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return {1}
