package picket.bus.internal

import picket.core.internal.LuaScript

/**
 * The bus's Lua scripts (bus/README.md describes each). Every time is the master's (`TIME`, in ms). Keys that a script
 * derives from the bus's root (`proc:<instance>`, a reply list named in a request) share the bus's hash tag.
 */
internal object Scripts {
    private const val NOW =
        "local t = redis.call('TIME')\n" +
            "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

    /** KEYS: settings, index. ARGV: field, value, … Stores the settings unless some are there; returns them. */
    val INIT: LuaScript =
        LuaScript(
            """
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('HSET', KEYS[1], unpack(ARGV))
              redis.call('SADD', KEYS[2], KEYS[1])
            end
            return redis.call('HGETALL', KEYS[1])
            """.trimIndent(),
        )

    /**
     * KEYS: methods, owners:m, instances, index, cached:m. ARGV: method, entry, instance, lease ms, keys to index…
     * Refuses ({0, existing}) a different entry while the method has a live owner; else stores it and leases it. An
     * entry that is not the one stored (a new definition, or the method registered anew after every owner left)
     * drops the method's cached results: they may be another function's.
     */
    val REGISTER: LuaScript =
        LuaScript(
            NOW +
                """
                local existing = redis.call('HGET', KEYS[1], ARGV[1])
                if existing and existing ~= ARGV[2] then
                  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
                  if redis.call('ZCARD', KEYS[2]) > 0 then return {0, existing} end
                end
                if existing ~= ARGV[2] then
                  for _, k in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do redis.call('DEL', k) end
                  redis.call('DEL', KEYS[5])
                end
                redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
                local expiry = now + tonumber(ARGV[4])
                redis.call('ZADD', KEYS[2], expiry, ARGV[3])
                redis.call('ZADD', KEYS[3], expiry, ARGV[3])
                redis.call('SADD', KEYS[4], KEYS[1], KEYS[2], KEYS[3])
                for i = 5, #ARGV do redis.call('SADD', KEYS[4], ARGV[i]) end
                return {1}
                """.trimIndent(),
        )

    /**
     * KEYS: instances, methods, index. ARGV: instance, lease ms, root, retention ms, number of owned methods, owned…,
     * served… Renews the instance's leases; answers the running calls of instances whose lease ran out more than a
     * lease ago as lost and drops registrations without such an owner, unless this instance's own lease had lapsed
     * (an outage: everybody's had). Returns {now, owned methods missing from the registry…}.
     */
    val BEAT: LuaScript =
        LuaScript(
            NOW +
                """
                local root = ARGV[3]
                local owned = tonumber(ARGV[5])
                local lease = tonumber(ARGV[2])
                local expiry = now + lease
                -- After an outage longer than the lease every lease has lapsed: the first to beat must not reap the
                -- others, which beat again soon. So no reaping by an instance whose own lease had lapsed, and only of
                -- instances whose lease ran out more than one lease ago.
                local own = redis.call('ZSCORE', KEYS[1], ARGV[1])
                local reap = not (own and tonumber(own) < now)
                local cutoff = now - lease
                if #ARGV > 5 then redis.call('ZADD', KEYS[1], expiry, ARGV[1]) end
                local missing = {}
                for i = 6, #ARGV do
                  local m = ARGV[i]
                  if i < 6 + owned then
                    redis.call('ZADD', root .. 'owners:' .. m, expiry, ARGV[1])
                    if redis.call('HEXISTS', KEYS[2], m) == 0 then missing[#missing + 1] = m end
                  else
                    redis.call('ZADD', root .. 'workers:' .. m, expiry, ARGV[1])
                  end
                end
                if not reap then return {now, unpack(missing)} end
                local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, 16)
                for _, d in ipairs(dead) do
                  local proc = root .. 'proc:' .. d
                  for _, e in ipairs(redis.call('LRANGE', proc, 0, -1)) do
                    local ok, req = pcall(cjson.decode, e)
                    if ok and type(req) == 'table' and type(req.replyTo) == 'string' and type(req.id) == 'string' then
                      redis.call('LPUSH', req.replyTo, cjson.encode({id = req.id, ok = false, error = {kind = 'lost',
                        type = 'picket.bus.WorkerLostException',
                        message = 'its lease ran out with the call running (instance ' .. d .. ')'}}))
                      redis.call('PEXPIRE', req.replyTo, ARGV[4])
                    end
                  end
                  redis.call('DEL', proc, root .. 'replies:' .. d)
                  redis.call('SREM', KEYS[3], proc, root .. 'replies:' .. d)
                  redis.call('ZREM', KEYS[1], d)
                end
                for _, m in ipairs(redis.call('HKEYS', KEYS[2])) do
                  local owners = root .. 'owners:' .. m
                  redis.call('ZREMRANGEBYSCORE', owners, '-inf', cutoff)
                  redis.call('ZREMRANGEBYSCORE', root .. 'workers:' .. m, '-inf', cutoff)
                  if redis.call('ZCARD', owners) == 0 then redis.call('HDEL', KEYS[2], m) end
                end
                return {now, unpack(missing)}
                """.trimIndent(),
        )

    /**
     * KEYS: instances, methods, index. ARGV: instance, root, number of owned methods, owned…, served… A graceful
     * leave: the instance's leases go, registrations it alone owned too, and its own lists.
     */
    val LEAVE: LuaScript =
        LuaScript(
            """
            local root = ARGV[2]
            local owned = tonumber(ARGV[3])
            redis.call('ZREM', KEYS[1], ARGV[1])
            for i = 4, #ARGV do
              local m = ARGV[i]
              if i < 4 + owned then
                local owners = root .. 'owners:' .. m
                redis.call('ZREM', owners, ARGV[1])
                if redis.call('ZCARD', owners) == 0 then redis.call('HDEL', KEYS[2], m) end
              else
                redis.call('ZREM', root .. 'workers:' .. m, ARGV[1])
              end
            end
            local proc = root .. 'proc:' .. ARGV[1]
            local replies = root .. 'replies:' .. ARGV[1]
            redis.call('DEL', proc, replies)
            redis.call('SREM', KEYS[3], proc, replies)
            return 1
            """.trimIndent(),
        )

    /**
     * KEYS: methods, queue[, cache key]. ARGV: method, request without its opening brace, timeout ms, retention ms.
     * {-1}: not registered; {1, value}: cached; {0, deadline}: queued with the master's deadline put first.
     */
    val CALL: LuaScript =
        LuaScript(
            """
            if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {-1} end
            if KEYS[3] then
              local v = redis.call('GET', KEYS[3])
              if v then return {1, v} end
            end
            """.trimIndent() + "\n" + NOW +
                """
                local deadline = now + tonumber(ARGV[3])
                redis.call('LPUSH', KEYS[2], '{"deadline":' .. string.format('%d', deadline) .. ',' .. ARGV[2])
                local keep = tonumber(ARGV[3]) + tonumber(ARGV[4])
                if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
                return {0, string.format('%d', deadline)}
                """.trimIndent(),
        )

    /**
     * KEYS: proc[, cache key]. ARGV: request, deadline, retention ms. {0}: the caller's deadline passed (skip);
     * {2, value}: cached meanwhile; {1}: recorded as running on this instance.
     */
    val START: LuaScript =
        LuaScript(
            NOW +
                """
                local deadline = tonumber(ARGV[2])
                if now > deadline then return {0} end
                if KEYS[2] then
                  local v = redis.call('GET', KEYS[2])
                  if v then return {2, v} end
                end
                redis.call('LPUSH', KEYS[1], ARGV[1])
                local keep = deadline - now + tonumber(ARGV[3])
                if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
                return {1}
                """.trimIndent(),
        )

    /**
     * A worker's step, on its dedicated connection: first ends the calls it finished (each as [REPLY] does), then
     * takes the next call without blocking. KEYS: proc, queues… (in the worker's rotated order). ARGV: retention ms,
     * most expired requests to drop in one go, number of replies, then per reply: request, reply list, reply, cache
     * key ('' for none), cached set, value, ttl ms (0: none). Pops the first queue with a request (`RPOP`: FIFO
     * within a method); a request whose caller's deadline passed is dropped and the next one taken; a request
     * cached meanwhile is returned with the cached value; any other is recorded as running (`proc`) before it is
     * returned. Returns {dropped, 0} (nothing queued), {dropped, 1, queue index, request} (run it),
     * {dropped, 2, queue index, request, cached value} (reply with it) or {dropped, 3, queue index, request} (no
     * deadline: malformed).
     */
    val STEP: LuaScript =
        LuaScript(
            NOW +
                """
                local proc = KEYS[1]
                local retention = tonumber(ARGV[1])
                local a = 4
                for _ = 1, tonumber(ARGV[3]) do
                  redis.call('LREM', proc, 1, ARGV[a])
                  redis.call('LPUSH', ARGV[a + 1], ARGV[a + 2])
                  redis.call('PEXPIRE', ARGV[a + 1], retention)
                  if ARGV[a + 3] ~= '' then
                    local ttl = tonumber(ARGV[a + 6])
                    if ttl > 0 then
                      redis.call('SET', ARGV[a + 3], ARGV[a + 5], 'PX', ttl)
                      redis.call('ZADD', ARGV[a + 4], now + ttl, ARGV[a + 3])
                    else
                      redis.call('SET', ARGV[a + 3], ARGV[a + 5])
                      redis.call('ZADD', ARGV[a + 4], '+inf', ARGV[a + 3])
                    end
                    redis.call('ZREMRANGEBYSCORE', ARGV[a + 4], '-inf', now)
                  end
                  a = a + 7
                end
                local dropped = 0
                local most = tonumber(ARGV[2])
                for q = 2, #KEYS do
                  while true do
                    local e = redis.call('RPOP', KEYS[q])
                    if not e then break end
                    local deadline = tonumber(string.match(e, '^{"deadline":(%d+)'))
                    local req = nil
                    if not deadline or string.find(e, '"cacheKey"', 1, true) then
                      local ok, r = pcall(cjson.decode, e)
                      if ok and type(r) == 'table' then
                        req = r
                        deadline = deadline or tonumber(r.deadline)
                      end
                    end
                    if not deadline then return {dropped, 3, q - 1, e} end
                    if now > deadline then
                      dropped = dropped + 1
                      if dropped >= most then return {dropped, 0} end
                    else
                      if req and type(req.cacheKey) == 'string' then
                        local v = redis.call('GET', req.cacheKey)
                        if v then return {dropped, 2, q - 1, e, v} end
                      end
                      local pushed = redis.pcall('LPUSH', proc, e)
                      if type(pushed) == 'table' and pushed.err then
                        -- Not recorded as running: back to the head of its queue, and the worker hears why.
                        redis.call('RPUSH', KEYS[q], e)
                        return pushed
                      end
                      local keep = deadline - now + retention
                      if redis.call('PTTL', proc) < keep then redis.call('PEXPIRE', proc, keep) end
                      return {dropped, 1, q - 1, e}
                    end
                  end
                end
                return {dropped, 0}
                """.trimIndent(),
        )

    /**
     * KEYS: proc, reply list[, cache key, cached set]. ARGV: request, reply, retention ms[, value, ttl ms (0: none)].
     * Ends the call: out of proc, the reply pushed, the result cached.
     */
    val REPLY: LuaScript =
        LuaScript(
            """
            redis.call('LREM', KEYS[1], 1, ARGV[1])
            redis.call('LPUSH', KEYS[2], ARGV[2])
            redis.call('PEXPIRE', KEYS[2], ARGV[3])
            if KEYS[3] then
            """.trimIndent() + "\n" + NOW +
                """
                  local ttl = tonumber(ARGV[5])
                  if ttl > 0 then
                    redis.call('SET', KEYS[3], ARGV[4], 'PX', ttl)
                    redis.call('ZADD', KEYS[4], now + ttl, KEYS[3])
                  else
                    redis.call('SET', KEYS[3], ARGV[4])
                    redis.call('ZADD', KEYS[4], '+inf', KEYS[3])
                  end
                  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
                end
                return 1
                """.trimIndent(),
        )

    /** KEYS: cache key, cached set. Drops one cached result; returns 1 if there was one. */
    val CLEAR: LuaScript =
        LuaScript(
            """
            redis.call('ZREM', KEYS[2], KEYS[1])
            return redis.call('DEL', KEYS[1])
            """.trimIndent(),
        )

    /** KEYS: methods. ARGV: root. Returns {method, entry, live workers, …}. */
    val LIST: LuaScript =
        LuaScript(
            NOW +
                """
                local out = {}
                local all = redis.call('HGETALL', KEYS[1])
                for i = 1, #all, 2 do
                  out[#out + 1] = all[i]
                  out[#out + 1] = all[i + 1]
                  out[#out + 1] = redis.call('ZCOUNT', ARGV[1] .. 'workers:' .. all[i], now, '+inf')
                end
                return out
                """.trimIndent(),
        )

    /** KEYS: workers:m. The live workers of a method. */
    val LIVE: LuaScript =
        LuaScript(NOW + "return redis.call('ZCOUNT', KEYS[1], now, '+inf')")
}
