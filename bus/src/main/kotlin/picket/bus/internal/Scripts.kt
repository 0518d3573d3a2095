package picket.bus.internal

import picket.core.internal.LuaScript

/**
 * The bus's Lua scripts. Each is a `.lua` file beside this one, in `bus/src/main/resources/picket/bus/internal/`,
 * whose header gives its KEYS, ARGV and reply; they are loaded once, when this object is first used. bus/README.md
 * describes each. Every time is the master's (`TIME`, in ms, from `now.lua`). Keys that a script derives from the
 * bus's root (`proc:<instance>`, a reply list named in a request) share the bus's hash tag.
 */
internal object Scripts {
    /** `init.lua`: stores the settings unless some are there; returns them. */
    val INIT: LuaScript = LuaScript.resource(javaClass, "init.lua")

    /** `register.lua`: registers and leases a method, or refuses ({0, existing}) while another has a live owner. */
    val REGISTER: LuaScript = LuaScript.resource(javaClass, "now.lua", "register.lua")

    /** `beat.lua`: renews the instance's leases, reaps dead instances; returns {now, owned methods missing…}. */
    val BEAT: LuaScript = LuaScript.resource(javaClass, "now.lua", "beat.lua")

    /** `leave.lua`: a graceful leave. */
    val LEAVE: LuaScript = LuaScript.resource(javaClass, "leave.lua")

    /** `call.lua`: {-1} not registered, {1, value} cached, {0, deadline} queued. */
    val CALL: LuaScript = LuaScript.resource(javaClass, "call.lua")

    /** `start.lua`: after a `BRPOP`: {0} deadline passed, {2, value} cached meanwhile, {1} recorded as running. */
    val START: LuaScript = LuaScript.resource(javaClass, "now.lua", "start.lua")

    /** `step.lua`: a busy worker ends the calls it finished (as [REPLY]) and takes the next one without blocking. */
    val STEP: LuaScript = LuaScript.resource(javaClass, "now.lua", "step.lua")

    /** `reply.lua`: ends a call: out of proc, the reply pushed, the result cached. */
    val REPLY: LuaScript = LuaScript.resource(javaClass, "reply.lua")

    /** `clear.lua`: drops one cached result; 1 if there was one. */
    val CLEAR: LuaScript = LuaScript.resource(javaClass, "clear.lua")

    /** `list.lua`: {method, entry, live workers, …}. */
    val LIST: LuaScript = LuaScript.resource(javaClass, "now.lua", "list.lua")

    /** `live.lua`: the live workers of a method. */
    val LIVE: LuaScript = LuaScript.resource(javaClass, "now.lua", "live.lua")
}
