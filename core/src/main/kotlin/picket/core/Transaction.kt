package picket.core

import io.lettuce.core.api.async.RedisAsyncCommands
import io.lettuce.core.api.sync.RedisCommands
import picket.core.Commands
import java.util.function.Consumer

/**
 * What a [Picket.transaction] block gets: the commands that run at once, after `WATCH` and before `MULTI` (the
 * reads the transaction depends on), and [multi], which queues the commands that run atomically between `MULTI`
 * and `EXEC` once the block returns.
 *
 * ```kotlin
 * val outcome = picket.transaction(spec, watch = listOf("balance")) {
 *     val balance = redis.get("balance")?.toLong() ?: 0
 *     multi { it.set("balance", "${balance - 10}"); it.incr("withdrawals") }
 * }
 * ```
 */
public class Transaction private constructor(
    /** The transaction's own connection, for reads before `MULTI` (Kotlin). */
    @get:JvmSynthetic
    public val redis: Commands<String, String>,
    /** The same, with Lettuce's blocking commands (Java). */
    public val sync: RedisCommands<String, String>,
) {
    internal val queued = ArrayList<Consumer<RedisAsyncCommands<String, String>>>()

    /**
     * Queues [commands] for the transaction: they are sent between `MULTI` and `EXEC` after the block returns, in
     * the order of the calls. Their replies are in [TransactionOutcome.Committed.replies]; the futures the commands
     * return complete only at `EXEC` and need not be awaited.
     */
    public fun multi(commands: Consumer<RedisAsyncCommands<String, String>>) {
        queued += commands
    }

    internal companion object {
        /** A transaction reading through [redis] and [sync]; made by the engine only (hidden from Java). */
        @JvmSynthetic
        fun of(
            redis: Commands<String, String>,
            sync: RedisCommands<String, String>,
        ): Transaction = Transaction(redis, sync)
    }
}

/** How a transaction ended, when it ran to `EXEC`. */
public sealed class TransactionOutcome {
    /** `EXEC` ran the queued commands; [replies] in their order (an error reply of one command is an element). */
    public data class Committed(
        public val replies: List<Any?>,
    ) : TransactionOutcome()

    /** A watched key changed between `WATCH` and `EXEC`: nothing of the transaction ran. */
    public data class Aborted(
        public val watched: List<String>,
    ) : TransactionOutcome()

    /** True for [Committed]. */
    public val committed: Boolean get() = this is Committed
}
