package picket.core.internal

import io.lettuce.core.RedisNoScriptException
import io.lettuce.core.ScriptOutputType
import picket.core.Commands
import picket.core.InternalPicketApi
import java.security.MessageDigest

/**
 * A Lua script and its SHA-1, run with `EVALSHA` and sent with `EVAL` where the node does not have it yet. The
 * scripts of mq, lock and bus are `.lua` resources, loaded with [resource].
 *
 * @property text the script as the server gets it.
 */
@InternalPicketApi
public class LuaScript(
    public val text: String,
) {
    /** The SHA-1 of [text] in hex: the name `EVALSHA` calls it by. */
    public val sha: String =
        MessageDigest
            .getInstance("SHA-1")
            .digest(text.toByteArray(Charsets.UTF_8))
            .joinToString("") { "%02x".format(it) }

    /** Where the scripts come from: `.lua` resources, each module's beside the object that holds its scripts. */
    public companion object {
        /**
         * The script made of the `.lua` resources [names], read now and in order: shared fragments first, the
         * script's own file last. A name is found as [Class.getResource] finds it for [owner] (relative to its
         * package, or from the root with a leading `/`), so in a jar as in a build's directory. Each file starts
         * with a header for its readers, its leading `--` lines (what it does, its `KEYS` and `ARGV` one by one,
         * what it returns): that header is not sent; the rest of the file, from the line after it, is, unchanged.
         *
         * ```kotlin
         * internal object Scripts {
         *     // mq/src/main/resources/picket/mq/internal/{now,place,enqueue}.lua
         *     val ENQUEUE: LuaScript = LuaScript.resource(javaClass, "now.lua", "place.lua", "enqueue.lua")
         * }
         * ```
         *
         * @throws IllegalStateException naming the resource's path when one is missing (where scripts are loaded
         * at class initialisation, the first use of the class fails with it).
         */
        public fun resource(
            owner: Class<*>,
            vararg names: String,
        ): LuaScript {
            require(names.isNotEmpty()) { "a Lua script needs at least one resource (loading for ${owner.name})" }
            return LuaScript(names.joinToString("") { code(owner, it) })
        }

        /** The text of resource [name] without its header. */
        private fun code(
            owner: Class<*>,
            name: String,
        ): String {
            val text =
                owner.getResourceAsStream(name)?.use { it.readBytes().toString(Charsets.UTF_8) }
                    ?: error("Lua script resource '${path(owner, name)}' not found (loading for ${owner.name})")
            var start = 0
            while (text.startsWith("--", start)) {
                val end = text.indexOf('\n', start)
                start = if (end < 0) text.length else end + 1
            }
            return text.substring(start)
        }

        /** [name] as a path from the class path's root, for messages. */
        private fun path(
            owner: Class<*>,
            name: String,
        ): String = if (name.startsWith("/")) name.drop(1) else owner.packageName.replace('.', '/') + "/" + name
    }
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
): T? = runScriptIn(script, type, keys, *args)

/** [runScript] with keys and arguments in the block's codec (bytes, for values that are not text). */
@InternalPicketApi
@Suppress("SpreadOperator") // Lettuce takes the arguments as varargs: copied once per call
public suspend fun <K : Any, V : Any, T> Commands<K, V>.runScriptIn(
    script: LuaScript,
    type: ScriptOutputType,
    keys: Array<K>,
    vararg args: V,
): T? =
    try {
        evalsha(script.sha, type, keys, *args)
    } catch (
        // NOSCRIPT: the script did not run; it runs now, by its text.
        @Suppress("SwallowedException") e: RedisNoScriptException,
    ) {
        eval(script.text, type, keys, *args)
    }
