-- list.lua (after now.lua): the registry, with each method's live workers.
--
-- KEYS[1]  <prefix>{n}:methods  hash: method -> registry entry (JSON)
-- ARGV[1]  root, <prefix>{n}: (workers:<m> is built from it)
--
-- Returns {method, entry, live workers, method, entry, live workers, ...}.

local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  out[#out + 1] = all[i]
  out[#out + 1] = all[i + 1]
  out[#out + 1] = redis.call('ZCOUNT', ARGV[1] .. 'workers:' .. all[i], now, '+inf')
end
return out
