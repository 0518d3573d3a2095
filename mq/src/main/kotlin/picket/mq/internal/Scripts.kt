package picket.mq.internal

import picket.core.internal.LuaScript

/**
 * The Lua scripts of the queue: every state change is one atomic script, and every time is the master's (`TIME`).
 * Documented, with the key layout, in mq/README.md. Queue-level keys come in KEYS (see [QueueKeys.all]); a message's
 * hash is `ARGV[1] .. id` (every key of a queue shares the hash tag `{queue}`).
 */
internal object Scripts {
    /** Arguments per handling in [SETTLE]. */
    const val SETTLE_FIELDS: Int = 5

    /** Milliseconds of the master's clock. */
    private const val NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

    /**
     * Puts message `id` (hash `key`) in the ready list, or in the delayed set when `delay` > 0, setting its state and
     * due time and any further field-value pairs given; wakes idle workers when the ready list was empty. Returns the
     * ready list's length after it (from `LPUSH`), or -1 for a delayed message.
     */
    private const val PLACE = """
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
"""

    /** Arguments per message in [ENQUEUE]. */
    const val ENQUEUE_FIELDS: Int = 8

    /**
     * Queues one or more messages (the enqueues that arrived while the previous call was in flight), each as if it
     * were alone. KEYS: the queue's keys, then the registry of queue names. ARGV: message prefix, wake channel, queue
     * name, then [ENQUEUE_FIELDS] per message: id, payload, delay ms, visibility ms (0: the worker's), update,
     * requeue, debounce (each '1' or '0'), chosen ('1': the caller chose the id; else the id is a new random one and
     * no message can have it yet). Returns {now, then per message, in order: its outcome, and the ready list's length
     * after it if it was put in that list (-1: it was not)}.
     */
    val ENQUEUE: LuaScript =
        LuaScript(
            NOW + PLACE +
                """
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
""",
        )

    /**
     * KEYS: the queue's keys. ARGV: message prefix, lease token, how many to take, default visibility ms, maximum
     * attempts. Promotes due delayed messages, redelivers (or dead-letters) messages whose lease expired, then takes
     * up to the given number. Returns {now, ready left, ms until the next delayed or leased message is due (-1: none),
     * #redelivered, #dead-lettered, their ids..., then 7 fields per taken message: id, payload, attempt, created,
     * lease deadline, last error, due}.
     */
    val TAKE: LuaScript =
        LuaScript(
            NOW +
                """
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
""",
        )

    /**
     * Records the results of several handlings at once (the acknowledgements and retries that finished while the
     * previous call was in flight), each checked against its own lease token as if it were alone.
     *
     * KEYS: the queue's keys. ARGV: message prefix, wake channel, ms to keep a chosen id, maximum attempts, then
     * [SETTLE_FIELDS] per handling: kind ('a' acknowledge, 'r' retry, 'd' dead-letter now), id, lease token, ms (for
     * 'a': ms to keep the id de-duplicated, 0: forget it, -1: the chosen-id time if the caller chose the id, else 0;
     * for 'r': the backoff), error (retries). Returns {now, then one outcome per handling, in order}: for an
     * acknowledgement 1 done, 2 queued again (a requeue was asked while it ran); for a retry 1 delayed for a retry, 2
     * dead-lettered; 0 for either when the lease is no longer this one's (it expired and was taken again, or the queue
     * was cleared): nothing changed for that message.
     */
    val SETTLE: LuaScript =
        LuaScript(
            NOW + PLACE +
                """
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
""",
        )

    /** KEYS: the queue's keys. ARGV: message prefix, id, lease token, ms. Returns {1, now, deadline} or {0, now}. */
    val EXTEND: LuaScript =
        LuaScript(
            NOW +
                """
local key = ARGV[1] .. ARGV[2]
local f = redis.call('HMGET', key, 'state', 'lease')
if f[1] ~= 'inflight' or f[2] ~= ARGV[3] then return {0, now} end
local deadline = now + tonumber(ARGV[4])
redis.call('HSET', key, 'deadline', deadline)
redis.call('ZADD', KEYS[3], deadline, ARGV[2])
return {1, now, deadline}
""",
        )

    /**
     * KEYS: the queue's keys. ARGV: message prefix. Returns {now, ready, delayed, in flight, recently done, dead, age
     * of the oldest ready message in ms (-1: none), enqueued, done, retried, dead-lettered, redelivered}.
     */
    val STATUS: LuaScript =
        LuaScript(
            NOW +
                """
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
""",
        )

    /** KEYS: none. ARGV: the message's key. Returns {now, field, value, ...} (only {now} if unknown). */
    val MESSAGE: LuaScript =
        LuaScript(
            NOW +
                """
local reply = {now}
for _, v in ipairs(redis.call('HGETALL', ARGV[1])) do table.insert(reply, v) end
return reply
""",
        )

    /**
     * KEYS: the queue's keys. ARGV: message prefix, first index, count. Returns {now, then 6 fields per dead letter,
     * newest first: id, payload, attempts, error, dead_at, created}.
     */
    val DEAD_LETTERS: LuaScript =
        LuaScript(
            NOW +
                """
local reply = {now}
local last = tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1
for _, id in ipairs(redis.call('LRANGE', KEYS[5], ARGV[2], last)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'payload', 'attempts', 'error', 'dead_at', 'created')
  for _, v in ipairs({id, f[1] or '', tonumber(f[2] or '0'), f[3] or '', tonumber(f[4] or '0'), tonumber(f[5] or '0')}) do
    table.insert(reply, v)
  end
end
return reply
""",
        )

    /**
     * KEYS: the queue's keys. ARGV: message prefix, wake channel, then the ids to re-queue (none: every dead letter).
     * Each goes back to the ready list with its attempt count reset and its last error kept. Returns how many.
     */
    val REQUEUE_DEAD: LuaScript =
        LuaScript(
            NOW + PLACE +
                """
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
""",
        )

    /**
     * KEYS: the queue's keys, then the registry of queue names. ARGV: message prefix, queue name. Deletes every
     * message and structure of the queue. Returns {ready, delayed, in flight, recently done, dead}: what was deleted.
     */
    val CLEAR: LuaScript =
        LuaScript(
            """
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
""",
        )

    /**
     * List listener, KEYS: processing list, dead list, attempts hash. ARGV: the message. Moves one occurrence and
     * forgets its attempt count; returns 1, or 0 if it was not in the processing list.
     */
    val LIST_DEAD_LETTER: LuaScript =
        LuaScript(
            """
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1
""",
        )

    /**
     * List listener, KEYS: processing list, attempts hash. ARGV: the message. Removes one occurrence from the
     * processing list and forgets its attempt count (for a message that failed or was recovered before: the others
     * have none, and are removed with a plain `LREM`). Returns what `LREM` did.
     */
    val LIST_DONE: LuaScript =
        LuaScript(
            """
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('LREM', KEYS[1], -1, ARGV[1])
""",
        )
}
