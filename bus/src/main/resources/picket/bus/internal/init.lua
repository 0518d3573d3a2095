-- init.lua: the bus's settings: stores the ones given unless some are there already (the first instance's win).
--
-- KEYS[1]  <prefix>{n}:settings  hash: lease_ms, timeout_ms, retention_ms, cache_ttl_ms
-- KEYS[2]  <prefix>{n}:index     set: the bus's keys, for cleanup()
-- ARGV     field, value, field, value, ...: the settings wanted
--
-- Returns the stored settings, {field, value, ...}.

if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
  redis.call('SADD', KEYS[2], KEYS[1])
end
return redis.call('HGETALL', KEYS[1])
