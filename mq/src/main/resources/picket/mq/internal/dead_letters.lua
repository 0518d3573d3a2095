-- dead_letters.lua (after now.lua): a page of the dead-letter list, newest first, with each message's fields.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO) (unused here)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms) (unused here)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms) (unused here)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms) (unused here)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered (unused here)
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  first index
-- ARGV[3]  count
--
-- Returns {now, then 6 fields per dead letter: id, payload, attempts, error, dead_at, created}.

local reply = {now}
local last = tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1
for _, id in ipairs(redis.call('LRANGE', KEYS[5], ARGV[2], last)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'payload', 'attempts', 'error', 'dead_at', 'created')
  for _, v in ipairs({id, f[1] or '', tonumber(f[2] or '0'), f[3] or '', tonumber(f[4] or '0'), tonumber(f[5] or '0')}) do
    table.insert(reply, v)
  end
end
return reply
