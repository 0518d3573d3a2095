package picket.bus.internal

import io.lettuce.core.RedisNoScriptException
import io.lettuce.core.ScriptOutputType
import picket.core.Commands
import java.security.MessageDigest

/** A Lua script and its SHA-1, run with `EVALSHA` and loaded with `EVAL` where the node does not have it yet. */
internal class Script(
    val text: String,
) {
    val sha: String =
        MessageDigest
            .getInstance("SHA-1")
            .digest(text.toByteArray(Charsets.UTF_8))
            .joinToString("") { "%02x".format(it) }
}

/**
 * Runs [script] by its digest; a node that does not know it (a new master after a failover, `SCRIPT FLUSH`) gets the
 * text once. Neither call can run the script twice: `NOSCRIPT` means it did not run.
 */
@Suppress("SpreadOperator") // the script's arguments, a handful each
internal suspend fun <T> Commands<String, String>.run(
    script: Script,
    type: ScriptOutputType,
    keys: Array<String>,
    vararg args: String,
): T? =
    try {
        evalsha(script.sha, type, keys, *args)
    } catch (
        @Suppress("SwallowedException") e: RedisNoScriptException,
    ) {
        eval(script.text, type, keys, *args)
    }
