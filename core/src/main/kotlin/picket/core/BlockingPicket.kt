package picket.core

import io.lettuce.core.RedisFuture
import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import java.util.function.Consumer
import java.util.function.Function

/**
 * The blocking form of [Picket], for Java and other callers without coroutines: [Picket.blocking]. Each method is the
 * Kotlin member of the same name, run on the calling thread until it returns.
 *
 * ```java
 * Long visits = picket.blocking().withConn(spec, redis -> redis.incr("visits"));
 * ```
 *
 * ## Threads
 * The whole call runs on the caller's thread (resolution, the block, the durability wait), so the block sees the
 * caller's ThreadLocals (MDC, a transaction or security context) and no pool limits how many calls run at once. On a
 * virtual thread every wait parks the virtual thread, which leaves its carrier. Waits are interruptible: an interrupt
 * cancels the call, which throws [PicketInterruptedException] with the thread's interrupt flag set again (a block
 * that had started may have run in part, as with any failure after it began). Closing the instance does not
 * interrupt callers: their commands fail as the connections close, and they get [PicketClosedException].
 */
public class BlockingPicket internal constructor(
    private val picket: Picket,
) {
    private val engine = picket.engine
    private val blocks = engine.blocks

    /**
     * [Picket.withConn] with Lettuce's synchronous commands: runs [block] on the node [spec] points at and returns
     * its result, with the same resolution, retries and durability handling.
     */
    public fun <T> withConn(
        spec: ConnSpec,
        block: Function<RedisCommands<String, String>, T>,
    ): T = withConn(spec, StringCodec.UTF8, block)

    /**
     * [withConn] with keys and values in [codec]: `ByteArrayCodec.INSTANCE` for `byte[]`, or a codec of your own
     * (serialized objects). It runs on the same connection as every other block on that node: a command carries its
     * codec.
     *
     * ```java
     * byte[] avatar = picket.blocking().withConn(spec, ByteArrayCodec.INSTANCE, redis -> redis.get(key));
     * ```
     */
    public fun <K, V, T> withConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: Function<RedisCommands<K, V>, T>,
    ): T = engine.java.blocking({ what("withConn", spec) }) { blocks.withSync(spec, dedicated = false, codec, block) }

    /** [Picket.withDedicatedConn] with Lettuce's synchronous commands (for blocking commands: BLPOP, WAIT, …). */
    public fun <T> withDedicatedConn(
        spec: ConnSpec,
        block: Function<RedisCommands<String, String>, T>,
    ): T = withDedicatedConn(spec, StringCodec.UTF8, block)

    /** [withDedicatedConn] with keys and values in [codec]. */
    public fun <K, V, T> withDedicatedConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: Function<RedisCommands<K, V>, T>,
    ): T =
        engine.java.blocking(
            { what("withDedicatedConn", spec) },
        ) { blocks.withSync(spec, dedicated = true, codec, block) }

    /**
     * [Picket.transaction]: WATCH [watch], then [block] (reads through [Transaction.sync], writes queued with
     * [Transaction.multi]) on the calling thread, then MULTI, the queued commands and EXEC.
     */
    public fun transaction(
        spec: ConnSpec,
        watch: List<String>,
        block: Consumer<Transaction>,
    ): TransactionOutcome =
        engine.java.blocking({ what("transaction", spec) }) { blocks.transaction(spec, watch, block) { it() } }

    /** [Picket.pipeline]: sends [commands] in order, [window] at a time, and returns their replies in order. */
    @JvmOverloads
    public fun pipeline(
        spec: ConnSpec,
        commands: List<Function<RedisAsyncCommands<String, String>, RedisFuture<*>>>,
        window: Int = Picket.DEFAULT_PIPELINE_WINDOW,
    ): List<Any?> = engine.java.blocking({ what("pipeline", spec) }) { blocks.pipeline(spec, commands, window) }

    /** [Picket.warmUp]: returns once every spec is resolved and connected, or throws the first spec's error. */
    public fun warmUp(specs: Collection<ConnSpec>): Unit =
        engine.java.blocking("warmUp of ${specs.size} specs") { blocks.warmUp(specs) }

    /** [Picket.removeInvalidResolvedMasterSpecs]: checks every cached master with ROLE; returns what was dropped. */
    public fun removeInvalidResolvedMasterSpecs(): List<PicketEvent.EntryInvalidated> =
        engine.java.blocking("removeInvalidResolvedMasterSpecs") { picket.sentinel.removeInvalid() }

    private fun what(
        call: String,
        spec: ConnSpec,
    ): String = "$call on ${spec.target}"
}
