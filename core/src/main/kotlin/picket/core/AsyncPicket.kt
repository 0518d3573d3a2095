package picket.core

import io.lettuce.core.RedisFuture
import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import kotlinx.coroutines.runInterruptible
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionStage
import java.util.function.Consumer
import java.util.function.Function

/**
 * The future form of [Picket], for Java callers that compose futures: [Picket.async]. Each method is the Kotlin
 * member of the same name, started at once; its future completes with the result or the same typed error.
 * Cancelling a future cancels what it waits for.
 *
 * ```java
 * picket.async().withConn(spec, redis -> redis.incr("visits")).thenAccept(n -> log.info("visit {}", n));
 * ```
 *
 * Callbacks run on the thread that completes the future (a Lettuce or Picket thread): hand long work to an executor
 * of your own (`thenApplyAsync(fn, executor)`), and never wait for another Picket call there. The same holds for a
 * `withConn` block: it runs on a Picket thread once the node is resolved, so it should send commands and compose
 * their futures, not wait for them (the blocking view is for blocks that wait).
 */
public class AsyncPicket internal constructor(
    private val picket: Picket,
) {
    private val engine = picket.engine
    private val blocks = engine.blocks

    /**
     * [Picket.withConn] with Lettuce's asynchronous commands: [block] returns a stage; the future completes with its
     * result, after the same resolution, retry and durability handling.
     */
    public fun <T> withConn(
        spec: ConnSpec,
        block: Function<RedisAsyncCommands<String, String>, CompletionStage<T>>,
    ): CompletableFuture<T> = withConn(spec, StringCodec.UTF8, block)

    /** [withConn] with keys and values in [codec] (`ByteArrayCodec.INSTANCE` for `byte[]`, or a codec of your own). */
    public fun <K, V, T> withConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: Function<RedisAsyncCommands<K, V>, CompletionStage<T>>,
    ): CompletableFuture<T> = engine.java.async { blocks.withAsync(spec, dedicated = false, codec, block) }

    /** [Picket.withDedicatedConn] with Lettuce's asynchronous commands (for blocking commands: BLPOP, WAIT, …). */
    public fun <T> withDedicatedConn(
        spec: ConnSpec,
        block: Function<RedisAsyncCommands<String, String>, CompletionStage<T>>,
    ): CompletableFuture<T> = withDedicatedConn(spec, StringCodec.UTF8, block)

    /** [withDedicatedConn] with keys and values in [codec]. */
    public fun <K, V, T> withDedicatedConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: Function<RedisAsyncCommands<K, V>, CompletionStage<T>>,
    ): CompletableFuture<T> = engine.java.async { blocks.withAsync(spec, dedicated = true, codec, block) }

    /**
     * [Picket.transaction]: WATCH [watch], then [block] (reads through [Transaction.sync], writes queued with
     * [Transaction.multi]), then MULTI, the queued commands and EXEC. [block] waits for its reads, so it runs on the
     * instance's handler executor (the one it was built with, or kotlinx's shared IO threads).
     */
    public fun transaction(
        spec: ConnSpec,
        watch: List<String>,
        block: Consumer<Transaction>,
    ): CompletableFuture<TransactionOutcome> =
        engine.java.async { blocks.transaction(spec, watch, block) { runInterruptible(engine.handlers, it) } }

    /** [Picket.pipeline]: sends [commands] in order, [window] at a time; the future gives their replies in order. */
    @JvmOverloads
    public fun pipeline(
        spec: ConnSpec,
        commands: List<Function<RedisAsyncCommands<String, String>, RedisFuture<*>>>,
        window: Int = Picket.DEFAULT_PIPELINE_WINDOW,
    ): CompletableFuture<List<Any?>> = engine.java.async { blocks.pipeline(spec, commands, window) }

    /** [Picket.warmUp]: completes once every spec is resolved and connected, or with the first spec's error. */
    public fun warmUp(specs: Collection<ConnSpec>): CompletableFuture<Void?> =
        engine.java.async {
            blocks.warmUp(specs)
            null
        }

    /** [Picket.removeInvalidResolvedMasterSpecs]: checks every cached master with ROLE; gives what was dropped. */
    public fun removeInvalidResolvedMasterSpecs(): CompletableFuture<List<PicketEvent.EntryInvalidated>> =
        engine.java.async { picket.sentinel.removeInvalid() }
}
