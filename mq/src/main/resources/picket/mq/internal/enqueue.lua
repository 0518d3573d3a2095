-- enqueue.lua (after now.lua, place.lua): queues one or more messages of one queue (the enqueues that arrived while
-- the previous call was in flight), each as if it were alone. A message id that is new goes to the ready list (or
-- the delayed set); a done or dead one only with requeue; a waiting one is updated (update: payload; debounce:
-- placed anew at now + delay); an in-flight one with requeue is marked to run again when acknowledged. The call
-- counts what it added and registers the queue name.
--
-- KEYS[1]  <prefix>{q}:ready      list: ready ids, LPUSH in, RPOP out (FIFO)
-- KEYS[2]  <prefix>{q}:delayed    sorted set: id -> due time (ms)
-- KEYS[3]  <prefix>{q}:inflight   sorted set: id -> lease deadline (ms) (unused here)
-- KEYS[4]  <prefix>{q}:done       sorted set: id -> end of its de-duplication window (ms)
-- KEYS[5]  <prefix>{q}:dead       list: dead-lettered ids, newest first
-- KEYS[6]  <prefix>{q}:stats      hash: totals enqueued, done, retried, dead, redelivered
-- KEYS[7]  <prefix>queues         set: the queue names (queueNames())
-- ARGV[1]  message prefix, <prefix>{q}:m: (message id's hash is ARGV[1] .. id)
-- ARGV[2]  wake channel, <prefix>{q}:wake
-- ARGV[3]  queue name
-- ARGV[4]  then 8 per message (Scripts.ENQUEUE_FIELDS): id, payload, delay ms, visibility ms (0: the worker's),
--          update, requeue, debounce (each '1' or '0'), chosen ('1': the caller chose the id; else the id is a new
--          random one and no message can have it yet, so it is not looked up)
--
-- Returns {now, then per message, in order: its outcome ('added', 'updated', 'already_queued', 'in_flight',
-- 'requeue_scheduled', 'recently_done', 'dead') and the ready list's length after it if it was put in that list
-- (-1: it was not)}.

local prefix, channel = ARGV[1], ARGV[2]
local added = 0
local function enqueue(id, payload, delay, vt, update, requeue, debounce, chosen)
  local key = prefix .. id
  local state = false
  if chosen == '1' then state = redis.call('HGET', key, 'state') end
  local function add()
    if state then
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[4], id)
    end
    local ready = place(id, key, delay, channel, 'payload', payload, 'attempts', 0, 'created', now, 'vt', vt,
      'chosen', chosen)
    added = added + 1
    return 'added', ready
  end
  if not state then return add() end
  if state == 'done' then
    if requeue == '1' then return add() end
    return 'recently_done', -1
  end
  if state == 'dead' then
    if requeue == '1' then
      redis.call('LREM', KEYS[5], 0, id)
      return add()
    end
    return 'dead', -1
  end
  if state == 'inflight' then
    if requeue == '1' then
      redis.call('HSET', key, 'rerun', 1, 'rerun_delay', delay)
      if update == '1' then redis.call('HSET', key, 'rerun_payload', payload) end
      return 'requeue_scheduled', -1
    end
    return 'in_flight', -1
  end
  local changed, ready = false, -1
  if update == '1' then
    redis.call('HSET', key, 'payload', payload)
    changed = true
  end
  if debounce == '1' then
    if state == 'queued' then redis.call('LREM', KEYS[1], 0, id) else redis.call('ZREM', KEYS[2], id) end
    ready = place(id, key, delay, channel)
    changed = true
  end
  if changed then return 'updated', ready end
  return 'already_queued', -1
end
local reply = {now}
for i = 4, #ARGV, 8 do
  local outcome, ready = enqueue(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4], ARGV[i + 5],
    ARGV[i + 6], ARGV[i + 7])
  table.insert(reply, outcome)
  table.insert(reply, ready)
end
if added > 0 then
  redis.call('HINCRBY', KEYS[6], 'enqueued', added)
  redis.call('SADD', KEYS[7], ARGV[3])
end
return reply
