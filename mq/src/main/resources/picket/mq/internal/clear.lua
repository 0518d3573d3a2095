-- clear.lua: deletes every message and structure of the queue, and its name from the registry. O(n): it holds
-- the master for a large queue.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered
-- KEYS[7]  <prefix>queues         set: the queue names
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  queue name
--
-- Returns {ready, delayed, in flight, recently done, dead}: how many messages of each were deleted.

local counts = {}
local function drop(ids)
  for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end
  table.insert(counts, #ids)
end
drop(redis.call('LRANGE', KEYS[1], 0, -1))
drop(redis.call('ZRANGE', KEYS[2], 0, -1))
drop(redis.call('ZRANGE', KEYS[3], 0, -1))
drop(redis.call('ZRANGE', KEYS[4], 0, -1))
drop(redis.call('LRANGE', KEYS[5], 0, -1))
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('SREM', KEYS[7], ARGV[2])
return counts
