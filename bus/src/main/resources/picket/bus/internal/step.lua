-- step.lua (after now.lua): a busy worker's step, on its dedicated connection. First ends the calls it finished
-- (each as reply.lua does), then takes the next call without blocking: pops (RPOP: FIFO within a method) the first
-- of its queues that holds a request, in the worker's rotated order. A request whose caller's deadline passed is
-- dropped and the next one taken; one cached meanwhile is returned with the cached value; any other is recorded as
-- running (proc) before it is returned. The deadline is read from the request's head, cjson only where needed.
--
-- KEYS[1]  <prefix>{n}:proc:<instance>  list: the calls the instance is running
-- KEYS[2]  then the worker's queues, <prefix>{n}:q:<m>, in its rotated order
-- ARGV[1]  retention ms
-- ARGV[2]  most expired requests to drop in one step
-- ARGV[3]  number of finished calls
-- ARGV[4]  then 7 per finished call: request, reply list, reply, cache key ('' for none), cached set, value,
--          ttl ms (0: none)
--
-- Returns {dropped, 0} nothing queued, {dropped, 1, queue index, request} run it, {dropped, 2, queue index,
-- request, cached value} reply with it, {dropped, 3, queue index, request} no deadline: malformed; or the error of
-- the LPUSH to proc, the request put back at the head of its queue.

local proc = KEYS[1]
local retention = tonumber(ARGV[1])
local a = 4
for _ = 1, tonumber(ARGV[3]) do
  redis.call('LREM', proc, 1, ARGV[a])
  redis.call('LPUSH', ARGV[a + 1], ARGV[a + 2])
  redis.call('PEXPIRE', ARGV[a + 1], retention)
  if ARGV[a + 3] ~= '' then
    local ttl = tonumber(ARGV[a + 6])
    if ttl > 0 then
      redis.call('SET', ARGV[a + 3], ARGV[a + 5], 'PX', ttl)
      redis.call('ZADD', ARGV[a + 4], now + ttl, ARGV[a + 3])
    else
      redis.call('SET', ARGV[a + 3], ARGV[a + 5])
      redis.call('ZADD', ARGV[a + 4], '+inf', ARGV[a + 3])
    end
    redis.call('ZREMRANGEBYSCORE', ARGV[a + 4], '-inf', now)
  end
  a = a + 7
end
local dropped = 0
local most = tonumber(ARGV[2])
for q = 2, #KEYS do
  while true do
    local e = redis.call('RPOP', KEYS[q])
    if not e then break end
    local deadline = tonumber(string.match(e, '^{"deadline":(%d+)'))
    local req = nil
    if not deadline or string.find(e, '"cacheKey"', 1, true) then
      local ok, r = pcall(cjson.decode, e)
      if ok and type(r) == 'table' then
        req = r
        deadline = deadline or tonumber(r.deadline)
      end
    end
    if not deadline then return {dropped, 3, q - 1, e} end
    if now > deadline then
      dropped = dropped + 1
      if dropped >= most then return {dropped, 0} end
    else
      if req and type(req.cacheKey) == 'string' then
        local v = redis.call('GET', req.cacheKey)
        if v then return {dropped, 2, q - 1, e, v} end
      end
      local pushed = redis.pcall('LPUSH', proc, e)
      if type(pushed) == 'table' and pushed.err then
        -- Not recorded as running: back to the head of its queue, and the worker hears why.
        redis.call('RPUSH', KEYS[q], e)
        return pushed
      end
      local keep = deadline - now + retention
      if redis.call('PTTL', proc) < keep then redis.call('PEXPIRE', proc, keep) end
      return {dropped, 1, q - 1, e}
    end
  end
end
return {dropped, 0}
