-- message.lua (after now.lua): one message's hash, with the master's time to read its times against.
--
-- KEYS     none (the hash's name is computed by the caller: <prefix>{q}:m:<id>)
-- ARGV[1]  the message's hash
--
-- Returns {now, field, value, ...} (only {now} if there is no such message).

local reply = {now}
for _, v in ipairs(redis.call('HGETALL', ARGV[1])) do table.insert(reply, v) end
return reply
