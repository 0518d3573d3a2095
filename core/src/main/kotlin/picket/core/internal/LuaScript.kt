package picket.core.internal

import io.lettuce.core.RedisNoScriptException
import io.lettuce.core.ScriptOutputType
import picket.core.Commands
import picket.core.InternalPicketApi
import java.security.MessageDigest

/** A Lua script and its SHA-1, run with `EVALSHA` and sent with `EVAL` where the node does not have it yet. */
@InternalPicketApi
public class LuaScript(
    public val text: String,
) {
    public val sha: String =
        MessageDigest
            .getInstance("SHA-1")
            .digest(text.toByteArray(Charsets.UTF_8))
            .joinToString("") { "%02x".format(it) }
}

/**
 * Runs [script] by its digest; a node that does not know it (a new master after a failover, `SCRIPT FLUSH`) gets the
 * text once, with `EVAL`, and keeps it. Neither call can run the script twice: `NOSCRIPT` means it did not run.
 */
@InternalPicketApi
@Suppress("SpreadOperator") // Lettuce takes the arguments as varargs: copied once per call
public suspend fun <T> Commands<String, String>.runScript(
    script: LuaScript,
    type: ScriptOutputType,
    keys: Array<String>,
    vararg args: String,
): T? =
    try {
        evalsha(script.sha, type, keys, *args)
    } catch (
        // NOSCRIPT: the script did not run; it runs now, by its text.
        @Suppress("SwallowedException") e: RedisNoScriptException,
    ) {
        eval(script.text, type, keys, *args)
    }
