-- settle.lua (after now.lua, place.lua): records the results of several handlings at once (the acknowledgements
-- and retries that finished while the previous call was in flight), each checked against its own lease token as
-- if it were alone. An acknowledgement: out of in flight; queued again if a requeue was asked while it ran, else
-- kept as done for its window or deleted. A retry: delayed by its backoff, or dead-lettered (last attempt, 'd').
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  wake channel, <prefix>{q}:wake
-- ARGV[3]  ms to keep an id the caller chose (WorkerOptions.keepChosenIdsFor)
-- ARGV[4]  maximum attempts
-- ARGV[5]  then 5 per handling (Scripts.SETTLE_FIELDS): kind ('a' acknowledge, 'r' retry, 'd' dead-letter now),
--          id, lease token, ms (for 'a': ms to keep the id de-duplicated, 0: forget it, -1: ARGV[3] if the caller
--          chose the id, else 0; for 'r': the backoff), error (retries)
--
-- Returns {now, then one outcome per handling, in order}: for an acknowledgement 1 done, 2 queued again; for a
-- retry 1 delayed for a retry, 2 dead-lettered; 0 for either when the lease is no longer this one's (it expired
-- and was taken again, or the queue was cleared): nothing changed for that message.

local prefix = ARGV[1]
local reply = {now}
local done, enqueued, retried, dead = 0, 0, 0, 0
local function ack(id, key, keep, f)
  done = done + 1
  if f[4] then
    redis.call('HDEL', key, 'rerun', 'rerun_payload', 'rerun_delay', 'lease', 'deadline', 'error')
    if f[5] then redis.call('HSET', key, 'payload', f[5]) end
    enqueued = enqueued + 1
    place(id, key, tonumber(f[6] or '0'), ARGV[2], 'attempts', 0, 'created', now)
    return 2
  end
  if keep < 0 then
    if f[7] == '1' then keep = tonumber(ARGV[3]) else keep = 0 end
  end
  if keep > 0 then
    redis.call('HDEL', key, 'payload', 'lease', 'deadline')
    redis.call('HSET', key, 'state', 'done', 'done_at', now)
    redis.call('PEXPIRE', key, keep)
    redis.call('ZADD', KEYS[4], now + keep, id)
  else
    redis.call('DEL', key)
  end
  return 1
end
local function retry(id, key, kind, backoff, err, attempts)
  redis.call('HDEL', key, 'lease', 'deadline')
  if kind == 'd' or attempts >= tonumber(ARGV[4]) then
    redis.call('HDEL', key, 'rerun', 'rerun_payload', 'rerun_delay')
    redis.call('HSET', key, 'state', 'dead', 'error', err, 'dead_at', now)
    redis.call('LPUSH', KEYS[5], id)
    dead = dead + 1
    return 2
  end
  local due = now + backoff
  redis.call('HSET', key, 'state', 'delayed', 'error', err, 'due', due)
  redis.call('ZADD', KEYS[2], due, id)
  retried = retried + 1
  return 1
end
local acked = false
for i = 5, #ARGV, 5 do
  local kind, id = ARGV[i], ARGV[i + 1]
  local key = prefix .. id
  local f = redis.call('HMGET', key, 'state', 'lease', 'attempts', 'rerun', 'rerun_payload', 'rerun_delay', 'chosen')
  local outcome = 0
  if f[1] == 'inflight' and f[2] == ARGV[i + 2] then
    redis.call('ZREM', KEYS[3], id)
    if kind == 'a' then
      outcome = ack(id, key, tonumber(ARGV[i + 3]), f)
      acked = true
    else
      outcome = retry(id, key, kind, tonumber(ARGV[i + 3]), ARGV[i + 4], tonumber(f[3]))
    end
  end
  table.insert(reply, outcome)
end
if acked then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now) end
for field, n in pairs({done = done, enqueued = enqueued, retried = retried, dead = dead}) do
  if n > 0 then redis.call('HINCRBY', KEYS[6], field, n) end
end
return reply
