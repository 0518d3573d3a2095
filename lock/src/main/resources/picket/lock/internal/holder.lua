-- holder.lua: who holds a lock, read at one instant.
--
-- KEYS[1]  <prefix><name>          hash, expires with the lease: owner, epoch, counter, sec, usec
-- KEYS[2]  <prefix><name>:queue    list: the waiters' owner tokens
--
-- Returns {} when free, else {epoch, counter, pttl of the lease, queued waiters}.

local fields = redis.call('HMGET', KEYS[1], 'epoch', 'counter')
if not fields[1] then return {} end
return {tonumber(fields[1]), tonumber(fields[2]), redis.call('PTTL', KEYS[1]), redis.call('LLEN', KEYS[2])}
