-- now.lua (fragment): the master's clock, for the queue scripts that follow it. Defines the locals t (the reply of
-- TIME) and now (milliseconds). Every time a queue script stores or compares is this one, never a client's.
-- Prepended (Scripts.kt) to enqueue, take, settle, extend, status, message, dead_letters and requeue_dead.
--
-- KEYS, ARGV: none of its own. Returns: nothing (a fragment).

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
