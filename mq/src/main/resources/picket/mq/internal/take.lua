-- take.lua (after now.lua): one poll of a worker. Promotes due delayed messages to the ready list (up to 100),
-- redelivers (first in line) or dead-letters (last attempt) messages whose lease expired (up to 100), then takes up
-- to the given number from the ready list, each with attempts + 1, a lease token and a deadline.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms) (unused here)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  lease token of this take
-- ARGV[3]  how many to take (the worker's free handlers)
-- ARGV[4]  default visibility ms (for a message whose own is 0)
-- ARGV[5]  maximum attempts
--
-- Returns {now, ready left, ms until the next delayed or leased message is due (-1: none, or not looked up since
-- a message was taken or is ready), #redelivered, #dead-lettered, their ids..., then 7 fields per taken message:
-- id, payload, attempt, created, lease deadline, last error ('' for none), due}.

local prefix = ARGV[1]
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], id)
  if redis.call('EXISTS', prefix .. id) == 1 then
    redis.call('LPUSH', KEYS[1], id)
    redis.call('HSET', prefix .. id, 'state', 'queued')
  end
end
local redelivered, dead = {}, {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  local key = prefix .. id
  redis.call('ZREM', KEYS[3], id)
  if redis.call('EXISTS', key) == 1 then
    local attempts = tonumber(redis.call('HGET', key, 'attempts') or '0')
    local err = 'lease expired: attempt ' .. attempts .. ' was not acknowledged within its visibility timeout'
    redis.call('HDEL', key, 'lease', 'deadline')
    if attempts >= tonumber(ARGV[5]) then
      redis.call('HSET', key, 'state', 'dead', 'error', err, 'dead_at', now)
      redis.call('LPUSH', KEYS[5], id)
      redis.call('HINCRBY', KEYS[6], 'dead', 1)
      table.insert(dead, id)
    else
      redis.call('HSET', key, 'state', 'queued', 'error', err, 'due', now)
      redis.call('RPUSH', KEYS[1], id)
      redis.call('HINCRBY', KEYS[6], 'redelivered', 1)
      table.insert(redelivered, id)
    end
  end
end
local taken = {}
for _ = 1, tonumber(ARGV[3]) do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  local key = prefix .. id
  local f = redis.call('HMGET', key, 'payload', 'attempts', 'created', 'vt', 'error', 'state', 'due')
  if f[1] and f[6] == 'queued' then
    local attempt = tonumber(f[2]) + 1
    local vt = tonumber(f[4])
    if vt <= 0 then vt = tonumber(ARGV[4]) end
    local deadline = now + vt
    redis.call('HSET', key, 'state', 'inflight', 'attempts', attempt, 'lease', ARGV[2], 'deadline', deadline)
    redis.call('ZADD', KEYS[3], deadline, id)
    for _, v in ipairs({id, f[1], attempt, tonumber(f[3]), deadline, f[5] or '', tonumber(f[7] or f[3])}) do
      table.insert(taken, v)
    end
  end
end
local nextDue = -1
if #taken == 0 and redis.call('LLEN', KEYS[1]) == 0 then
  for _, set in ipairs({KEYS[2], KEYS[3]}) do
    local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
    if first[2] then
      local wait = math.max(0, tonumber(first[2]) - now)
      if nextDue < 0 or wait < nextDue then nextDue = wait end
    end
  end
end
local reply = {now, redis.call('LLEN', KEYS[1]), nextDue, #redelivered, #dead}
for _, id in ipairs(redelivered) do table.insert(reply, id) end
for _, id in ipairs(dead) do table.insert(reply, id) end
for _, v in ipairs(taken) do table.insert(reply, v) end
return reply
