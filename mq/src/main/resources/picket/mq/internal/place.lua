-- place.lua (fragment, after now.lua): place(id, key, delay, channel, ...) puts message id (its hash: key) in the
-- ready list, or in the delayed set when delay > 0, setting its state ('queued' or 'delayed') and due time and
-- any further field-value pairs given; it publishes 'ready' on channel when the ready list was empty (wakes idle
-- workers). Prepended (Scripts.kt) to enqueue, settle and requeue_dead.
--
-- KEYS[1]  <prefix>{q}:ready    list: ready ids
-- KEYS[2]  <prefix>{q}:delayed  sorted set: id -> due time (ms)
--
-- place returns the ready list's length after its LPUSH, or -1 for a delayed message.

local function place(id, key, delay, channel, ...)
  if delay > 0 then
    redis.call('ZADD', KEYS[2], now + delay, id)
    redis.call('HSET', key, 'state', 'delayed', 'due', now + delay, ...)
    return -1
  end
  redis.call('HSET', key, 'state', 'queued', 'due', now, ...)
  local ready = redis.call('LPUSH', KEYS[1], id)
  if ready == 1 then redis.call('PUBLISH', channel, 'ready') end
  return ready
end
