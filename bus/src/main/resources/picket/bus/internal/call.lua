-- call.lua: a caller's call. Not registered: {-1} (the caller reloads the registry and throws). Cached: the value.
-- Else the request goes to the method's queue with the master's deadline put first, and the queue's expiry is
-- extended. Computes now itself, after the early returns (now.lua is not prepended).
--
-- KEYS[1]  <prefix>{n}:methods          hash: method -> registry entry (JSON)
-- KEYS[2]  <prefix>{n}:q:<m>            list: requests, LPUSH by callers, RPOP/BRPOP by workers
-- KEYS[3]  <prefix>{n}:cache:<m>:<key>  string: the cached result (only for a method that caches)
-- ARGV[1]  method
-- ARGV[2]  the request's JSON without its opening brace (the script writes '{"deadline":<ms>,' before it)
-- ARGV[3]  timeout ms (the deadline is now + this)
-- ARGV[4]  retention ms
--
-- Returns {-1} not registered, {1, value} cached, {0, deadline} queued.

if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {-1} end
if KEYS[3] then
  local v = redis.call('GET', KEYS[3])
  if v then return {1, v} end
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local deadline = now + tonumber(ARGV[3])
redis.call('LPUSH', KEYS[2], '{"deadline":' .. string.format('%d', deadline) .. ',' .. ARGV[2])
local keep = tonumber(ARGV[3]) + tonumber(ARGV[4])
if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
return {0, string.format('%d', deadline)}
