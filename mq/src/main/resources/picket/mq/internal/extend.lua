-- extend.lua (after now.lua): moves the lease deadline of a message in flight, if the lease token still matches.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO) (unused here)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms) (unused here)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms) (unused here)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first (unused here)
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered (unused here)
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  message id
-- ARGV[3]  lease token
-- ARGV[4]  ms from now to the new deadline
--
-- Returns {1, now, deadline}, or {0, now} when the lease is not this token's any more.

local key = ARGV[1] .. ARGV[2]
local f = redis.call('HMGET', key, 'state', 'lease')
if f[1] ~= 'inflight' or f[2] ~= ARGV[3] then return {0, now} end
local deadline = now + tonumber(ARGV[4])
redis.call('HSET', key, 'deadline', deadline)
redis.call('ZADD', KEYS[3], deadline, ARGV[2])
return {1, now, deadline}
