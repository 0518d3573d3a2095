-- extend.lua: the owner sets its lease's expiry to hold ms from now.
--
-- KEYS[1]  <prefix><name>          hash, expires with the lease: owner, epoch, counter, sec, usec
-- ARGV[1]  owner: the caller's token
-- ARGV[2]  hold ms
--
-- Returns {1, sec, usec} extended (TIME), {0} not held, {-1} held by another.

local holder = redis.call('HGET', KEYS[1], 'owner')
if not holder then return {0} end
if holder ~= ARGV[1] then return {-1} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
return {1, tonumber(t[1]), tonumber(t[2])}
