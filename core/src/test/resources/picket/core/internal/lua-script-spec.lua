-- lua-script-spec.lua: returns x + ARGV[1].
-- ARGV[1]  a number

-- a comment in the code is sent
return x + tonumber(ARGV[1])
