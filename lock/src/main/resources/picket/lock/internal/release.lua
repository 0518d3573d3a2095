-- release.lua (after grant.lua): the owner gives the lock up: deleted, then handed over to the first live waiter
-- with the releaser's epoch; with no known epoch (-1, just after a switch) no hand-over: the waiters are woken with
-- 'released' and the next attempt grants. Nobody waiting: no PUBLISH at all.
--
-- KEYS[1]  <prefix><name>          hash, expires with the lease: owner, epoch, counter, sec, usec
-- KEYS[2]  <prefix><name>:fence    hash, never expires: epoch (the highest seen), counter (acquisitions)
-- KEYS[3]  <prefix><name>:queue    list: the waiters' owner tokens, in arrival order
-- KEYS[4]  <prefix><name>:waiting  hash: owner token -> 'holdMs:aliveUntilMs' (server time)
-- ARGV[1]  owner: the caller's token
-- ARGV[2]  channel, <prefix><name>:released
-- ARGV[3]  epoch: the config epoch of the master (-1: unknown, no hand-over)
--
-- Returns 1 released, 0 not held, -1 held by another.

local holder = redis.call('HGET', lock, 'owner')
if not holder then return 0 end
if holder ~= ARGV[1] then return -1 end
redis.call('DEL', lock)
if ARGV[3] == '-1' then
  if redis.call('LLEN', queue) > 0 then redis.call('PUBLISH', ARGV[2], 'released') end
else
  handOver(ARGV[2], ARGV[3])
end
return 1
