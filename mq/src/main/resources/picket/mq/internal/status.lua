-- status.lua (after now.lua): the queue's counts and totals, read at one instant.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
--
-- Returns {now, ready, delayed, in flight, recently done, dead, age of the oldest ready message in ms (-1: none),
-- enqueued, done, retried, dead-lettered, redelivered}.

local oldest = -1
local head = redis.call('LINDEX', KEYS[1], -1)
if head then
  local created = redis.call('HGET', ARGV[1] .. head, 'created')
  if created then oldest = now - tonumber(created) end
end
local s = redis.call('HMGET', KEYS[6], 'enqueued', 'done', 'retried', 'dead', 'redelivered')
return {now, redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),
  redis.call('ZCOUNT', KEYS[4], now, '+inf'), redis.call('LLEN', KEYS[5]), oldest,
  tonumber(s[1] or '0'), tonumber(s[2] or '0'), tonumber(s[3] or '0'), tonumber(s[4] or '0'), tonumber(s[5] or '0')}
