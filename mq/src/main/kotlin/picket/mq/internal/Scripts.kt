package picket.mq.internal

import picket.core.internal.LuaScript

/**
 * The Lua scripts of the queue and of the list listener. Each is a `.lua` file beside this one, in
 * `mq/src/main/resources/picket/mq/internal/`, whose header gives its KEYS, ARGV and reply; they are loaded once, when
 * this object is first used. Every state change is one atomic script, and every time is the master's (`TIME`, from
 * `now.lua`). mq/README.md describes them with the key layout. Queue-level keys come in KEYS (see [QueueKeys.all]);
 * a message's hash is `ARGV[1] .. id` (every key of a queue shares the hash tag `{queue}`).
 */
internal object Scripts {
    /** Arguments per handling in [SETTLE]. */
    const val SETTLE_FIELDS: Int = 5

    /** Arguments per message in [ENQUEUE]. */
    const val ENQUEUE_FIELDS: Int = 8

    /** `enqueue.lua`: queues one or more messages of one queue, each as if it were alone. */
    val ENQUEUE: LuaScript = LuaScript.resource(javaClass, "now.lua", "place.lua", "enqueue.lua")

    /** `take.lua`: promotes due messages, redelivers or dead-letters expired leases, takes up to n messages. */
    val TAKE: LuaScript = LuaScript.resource(javaClass, "now.lua", "take.lua")

    /**
     * `settle.lua`: records several handlings (acknowledgements, retries) at once, each checked against its own lease
     * token. Outcomes per handling: for an acknowledgement 1 done, 2 queued again; for a retry 1 delayed, 2
     * dead-lettered; 0 lease lost.
     */
    val SETTLE: LuaScript = LuaScript.resource(javaClass, "now.lua", "place.lua", "settle.lua")

    /** `extend.lua`: moves a lease's deadline if its token still matches. */
    val EXTEND: LuaScript = LuaScript.resource(javaClass, "now.lua", "extend.lua")

    /** `status.lua`: the queue's counts and totals. */
    val STATUS: LuaScript = LuaScript.resource(javaClass, "now.lua", "status.lua")

    /** `message.lua`: one message's hash, with the master's time. */
    val MESSAGE: LuaScript = LuaScript.resource(javaClass, "now.lua", "message.lua")

    /** `dead_letters.lua`: a page of dead letters, newest first. */
    val DEAD_LETTERS: LuaScript = LuaScript.resource(javaClass, "now.lua", "dead_letters.lua")

    /** `requeue_dead.lua`: dead letters back to the ready list (given ids, or all). */
    val REQUEUE_DEAD: LuaScript = LuaScript.resource(javaClass, "now.lua", "place.lua", "requeue_dead.lua")

    /** `clear.lua`: deletes every message and structure of a queue. */
    val CLEAR: LuaScript = LuaScript.resource(javaClass, "clear.lua")

    /** `list_dead_letter.lua`: the list listener moves a message from its processing list to its dead list. */
    val LIST_DEAD_LETTER: LuaScript = LuaScript.resource(javaClass, "list_dead_letter.lua")

    /** `list_done.lua`: the list listener removes a message that had failed before from its processing list. */
    val LIST_DONE: LuaScript = LuaScript.resource(javaClass, "list_done.lua")
}
