package picket.core.engine

import io.lettuce.core.RedisFuture
import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.api.sync.RedisCommands
import io.lettuce.core.codec.RedisCodec
import io.lettuce.core.codec.StringCodec
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.future.await
import kotlinx.coroutines.future.future
import kotlinx.coroutines.runInterruptible
import kotlinx.coroutines.withContext
import picket.core.Commands
import picket.core.ConnSpec
import picket.core.InternalPicketApi
import picket.core.InvalidSpecException
import picket.core.Pipeline
import picket.core.Transaction
import picket.core.TransactionOutcome
import picket.core.internal.execution.PipelineRun
import picket.core.internal.execution.Tracked
import picket.core.internal.execution.TransactionRun
import picket.core.internal.picketCommands
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionStage
import java.util.function.Consumer
import java.util.function.Function

/**
 * The ways a block runs on an [engine]'s nodes, each in its Kotlin and its Java form: on the shared connection
 * ([withConn]), on a dedicated one ([withDedicatedConn]), as an optimistic [transaction] or as a [pipeline]. The
 * facade documents each for users; here is how each is put together from the block runner.
 */
@InternalPicketApi
public class Blocks internal constructor(
    private val engine: PicketEngine,
) {
    private val runner get() = engine.runner

    /** `withConn`: [block] on the shared connection of [spec]'s node, known to nested blocks on the same spec. */
    public suspend fun <T> withConn(
        spec: ConnSpec,
        block: suspend Commands<String, String>.() -> T,
    ): T = withConn(spec, StringCodec.UTF8, block)

    /** `withConn` with keys and values in [codec] (the same connection: a command carries its codec). */
    public suspend fun <K : Any, V : Any, T> withConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: suspend Commands<K, V>.() -> T,
    ): T {
        engine.checkOpen()
        return runner.execute(spec) { lease -> withLease(lease, codec, block) }
    }

    /** For locks: [withConn], telling [block] the config-epoch of the master it runs on, or null. */
    public suspend fun <T> withConnOnEpoch(
        spec: ConnSpec,
        block: suspend Commands<String, String>.(epoch: Long?) -> T,
    ): T {
        engine.checkOpen()
        return runner.execute(spec) { lease -> withLease(lease, StringCodec.UTF8) { block(lease.master?.configEpoch) } }
    }

    /**
     * The Java blocking form of `withConn` ([dedicated]: of `withDedicatedConn`): [block] with Lettuce's synchronous
     * commands, run where this coroutine runs — the caller's thread, under [JavaCalls.blocking].
     */
    public suspend fun <K, V, T> withSync(
        spec: ConnSpec,
        dedicated: Boolean,
        codec: RedisCodec<K, V>,
        block: Function<RedisCommands<K, V>, T>,
    ): T {
        engine.checkOpen()
        return runner.execute(spec, dedicated) { lease -> block.apply(Tracked.sync(lease, codec)) }
    }

    /**
     * The Java future form of `withConn` ([dedicated]: of `withDedicatedConn`): [block] with Lettuce's asynchronous
     * commands; the result is its stage's.
     */
    public suspend fun <K, V, T> withAsync(
        spec: ConnSpec,
        dedicated: Boolean,
        codec: RedisCodec<K, V>,
        block: Function<RedisAsyncCommands<K, V>, CompletionStage<T>>,
    ): T {
        engine.checkOpen()
        return runner.execute(spec, dedicated) { lease -> block.apply(Tracked.async(lease, codec)).await() }
    }

    /** `warmUp`: every spec resolved and connected in parallel; the first spec's error is thrown. */
    public suspend fun warmUp(specs: Collection<ConnSpec>) {
        engine.checkOpen()
        coroutineScope { specs.map { spec -> async { withConn(spec) { ping() } } }.awaitAll() }
    }

    /** `withDedicatedConn`: [block] on a connection of its own from the node's bounded pool, in [codec]. */
    public suspend fun <K : Any, V : Any, T> withDedicatedConn(
        spec: ConnSpec,
        codec: RedisCodec<K, V>,
        block: suspend Commands<K, V>.() -> T,
    ): T {
        engine.checkOpen()
        return runner.execute(spec, dedicated = true) { lease ->
            lease.connection.picketCommands(codec, lease.tracker).block()
        }
    }

    /** `transaction`: WATCH [watch], [block], then MULTI, the queued commands and EXEC on a dedicated connection. */
    public suspend fun transaction(
        spec: ConnSpec,
        watch: List<String>,
        block: suspend Transaction.() -> Unit,
    ): TransactionOutcome {
        engine.checkOpen()
        val run = TransactionRun(watch, block, { it.resolver.awaitSwitch(it) })
        return onDedicated(spec, run::run, run::failure)
    }

    /**
     * The Java forms of `transaction`: [block] reads through [Transaction.sync] and queues writes; [onThread] runs it
     * where blocking reads may wait (the caller's thread for the blocking form).
     */
    public suspend fun transaction(
        spec: ConnSpec,
        watch: List<String>,
        block: Consumer<Transaction>,
        onThread: suspend (() -> Unit) -> Unit,
    ): TransactionOutcome = transaction(spec, watch) { onThread { block.accept(this) } }

    /** `pipeline`: the commands [block] adds, [window] at a time, on a dedicated connection; replies in order. */
    public suspend fun pipeline(
        spec: ConnSpec,
        window: Int,
        block: suspend Pipeline.() -> Unit,
    ): List<Any?> {
        engine.checkOpen()
        if (window < 1) throw InvalidSpecException("pipeline window is $window, must be >= 1")
        val run = PipelineRun(window, block, { it.resolver.awaitSwitch(it) })
        return onDedicated(spec, run::run, run::failure)
    }

    /** The Java forms of `pipeline`: [commands] in order, [window] at a time; replies in order. */
    public suspend fun pipeline(
        spec: ConnSpec,
        commands: List<Function<RedisAsyncCommands<String, String>, RedisFuture<*>>>,
        window: Int,
    ): List<Any?> = pipeline(spec, window) { commands.forEach { add(it) } }

    /** Runs [run] on a dedicated connection; a failure is thrown as [failure] tells (what had been sent). */
    private suspend fun <T> onDedicated(
        spec: ConnSpec,
        run: suspend (Lease) -> T,
        failure: (ConnSpec, Exception) -> Exception,
    ): T =
        try {
            runner.execute(spec, dedicated = true, run = run)
        } catch (e: CancellationException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            throw failure(spec, e)
        }

    /** Runs [block] on [lease]'s connection, known to nested blocks on the same spec (they reuse it). */
    private suspend fun <K : Any, V : Any, T> withLease(
        lease: Lease,
        codec: RedisCodec<K, V>,
        block: suspend Commands<K, V>.() -> T,
    ): T {
        val commands = lease.connection.picketCommands(codec, lease.tracker)
        val context = (currentCoroutineContext()[LeaseContext] ?: LeaseContext(emptyMap())).with(lease)
        return withContext(context) { commands.block() }
    }
}
