-- live.lua (after now.lua): how many workers of a method have a live lease.
--
-- KEYS[1]  <prefix>{n}:workers:<m>  sorted set: instance -> lease expiry (ms)
--
-- Returns the number of live workers.

return redis.call('ZCOUNT', KEYS[1], now, '+inf')
