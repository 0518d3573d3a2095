-- now.lua (fragment): the master's clock, for the bus scripts that follow it. Defines the locals t (the reply of
-- TIME) and now (milliseconds): every deadline and lease of the bus is on this clock. Prepended (Scripts.kt) to
-- register, beat, start, step, list and live; call.lua and reply.lua compute now themselves, after their early
-- returns, so that the paths that return early do not call TIME.
--
-- KEYS, ARGV: none of its own. Returns: nothing (a fragment).

local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
