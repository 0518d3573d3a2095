-- clear.lua: drops one cached result.
--
-- KEYS[1]  <prefix>{n}:cache:<m>:<key>  string: the cached result
-- KEYS[2]  <prefix>{n}:cached:<m>       sorted set: cache entry key -> expiry (ms)
--
-- Returns 1 if there was one, else 0.

redis.call('ZREM', KEYS[2], KEYS[1])
return redis.call('DEL', KEYS[1])
