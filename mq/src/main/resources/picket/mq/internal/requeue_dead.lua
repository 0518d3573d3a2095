-- requeue_dead.lua (after now.lua, place.lua): puts dead letters back in the ready list, attempts reset and last
-- error kept: the ids given, or every dead letter (oldest first) when none is given.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms) (unused here)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms) (unused here)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms) (unused here)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered (unused here)
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  wake channel, <prefix>{q}:wake
-- ARGV[3]  then the ids to requeue (none: every dead letter)
--
-- Returns how many were requeued.

local ids = {}
if #ARGV == 2 then
  ids = redis.call('LRANGE', KEYS[5], 0, -1)
  redis.call('DEL', KEYS[5])
  for i = 1, math.floor(#ids / 2) do ids[i], ids[#ids - i + 1] = ids[#ids - i + 1], ids[i] end
else
  for i = 3, #ARGV do
    if redis.call('LREM', KEYS[5], 0, ARGV[i]) > 0 then table.insert(ids, ARGV[i]) end
  end
end
local n = 0
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('HDEL', key, 'dead_at')
    place(id, key, 0, ARGV[2], 'attempts', 0)
    n = n + 1
  end
end
return n
