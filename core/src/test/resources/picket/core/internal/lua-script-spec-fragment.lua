-- lua-script-spec-fragment.lua: a fragment for LuaScriptSpec, defining x.
--
-- KEYS, ARGV: none.

local x = 1
