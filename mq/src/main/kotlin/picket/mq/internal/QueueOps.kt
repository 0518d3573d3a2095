package picket.mq.internal

import io.lettuce.core.ScriptOutputType
import kotlinx.coroutines.flow.toList
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.internal.runScript
import java.time.Instant

/** One taken message, as the take script returns it (times in the master's ms). */
internal class Taken(
    val id: String,
    val payload: String,
    val attempt: Int,
    val created: Long,
    val deadline: Long,
    val lastError: String?,
    val due: Long,
)

/** The enqueue script's reply: its outcome, the master's time, the ready list's length after it (-1: not put in it). */
internal data class EnqueueReply(
    val outcome: String,
    val now: Long,
    val readyAfter: Long,
)

/** The take script's reply. */
internal class TakeReply(
    /** The lease token of every message taken. */
    val token: String,
    val now: Long,
    val readyLeft: Long,
    /** Ms until the next delayed or leased message is due; -1: none (only when nothing was taken or is ready). */
    val nextDueMs: Long,
    val redelivered: List<String>,
    val deadLettered: List<String>,
    val taken: List<Taken>,
)

/** The scripts of one queue store, run on [spec]'s master through [picket]. */
internal class QueueOps(
    private val picket: Picket,
    private val spec: ConnSpec,
    private val prefix: String,
) {
    /** Acknowledgements and extensions check the lease first: running one twice changes nothing more. */
    private val idempotent = spec.copy(idempotent = true)
    val registry: String = prefix + "queues"

    fun keys(queue: String): QueueKeys = QueueKeys(prefix, queue)

    /**
     * Queues [messages] of one queue in one script call on [on]'s master and returns their outcomes, in order (see
     * [Scripts.ENQUEUE]).
     */
    @Suppress("SpreadOperator") // the batch's arguments, once
    suspend fun enqueue(
        keys: QueueKeys,
        messages: List<NewMessage>,
        on: ConnSpec,
    ): List<EnqueueReply> {
        val args = ArrayList<String>(ENQUEUE_HEAD + messages.size * Scripts.ENQUEUE_FIELDS)
        args += keys.messagePrefix
        args += keys.wakeChannel
        args += keys.queue
        messages.forEach { m ->
            args += m.id
            args += m.payload
            args += m.args.delayMs.toString()
            args += m.args.visibilityMs.toString()
            args += flag(m.args.update)
            args += flag(m.args.requeue)
            args += flag(m.args.debounce)
            args += flag(m.args.chosen)
        }
        val reply =
            picket.withConn(on) {
                runScript<List<Any>>(Scripts.ENQUEUE, ScriptOutputType.MULTI, keys.all + registry, *args.toTypedArray())
            }!!
        val now = reply[0] as Long
        return (1 until reply.size step 2).map { i -> EnqueueReply(reply[i] as String, now, reply[i + 1] as Long) }
    }

    suspend fun take(
        keys: QueueKeys,
        count: Int,
        token: String,
        visibilityMs: Long,
        maxAttempts: Int,
    ): TakeReply {
        val r =
            picket.withConn(spec) {
                runScript<List<Any>>(
                    Scripts.TAKE,
                    ScriptOutputType.MULTI,
                    keys.all,
                    keys.messagePrefix,
                    token,
                    count.toString(),
                    visibilityMs.toString(),
                    maxAttempts.toString(),
                )
            }!!
        val redelivered = (r[HEAD] as Long).toInt()
        val dead = (r[HEAD + 1] as Long).toInt()
        val ids = r.subList(HEAD + 2, HEAD + 2 + redelivered + dead).map { it as String }
        val taken =
            r.drop(HEAD + 2 + redelivered + dead).chunked(TAKEN_FIELDS).map { f ->
                Taken(
                    f[0] as String,
                    f[1] as String,
                    (f[2] as Long).toInt(),
                    f[3] as Long,
                    f[4] as Long,
                    (f[5] as String).ifEmpty { null },
                    f[6] as Long,
                )
            }
        return TakeReply(
            token,
            r[0] as Long,
            r[1] as Long,
            r[2] as Long,
            ids.take(redelivered),
            ids.drop(redelivered),
            taken,
        )
    }

    /**
     * Records [handlings] in one script call, each checked against its own lease; the outcome of each, in order
     * (see [Scripts.SETTLE]: for an acknowledgement 1 done, 2 queued again; for a retry 1 delayed, 2 dead-lettered;
     * 0 lease lost).
     */
    @Suppress("SpreadOperator") // the batch's arguments, once
    suspend fun settle(
        keys: QueueKeys,
        handlings: List<Settlement>,
        keepChosenMs: Long,
        maxAttempts: Int,
    ): List<Long> {
        val args = ArrayList<String>(SETTLE_HEAD + handlings.size * Scripts.SETTLE_FIELDS)
        args += keys.messagePrefix
        args += keys.wakeChannel
        args += keepChosenMs.toString()
        args += maxAttempts.toString()
        handlings.forEach { h ->
            args += h.kind.code
            args += h.id
            args += h.token
            args += h.ms.toString()
            args += h.error
        }
        val reply =
            picket.withConn(idempotent) {
                runScript<List<Any>>(Scripts.SETTLE, ScriptOutputType.MULTI, keys.all, *args.toTypedArray())
            }!!
        return reply.drop(1).map { it as Long }
    }

    /** The new deadline (master ms) and the master's now, or null if the lease was lost. */
    suspend fun extend(
        keys: QueueKeys,
        id: String,
        token: String,
        ms: Long,
    ): Pair<Long, Long>? {
        val r =
            picket.withConn(idempotent) {
                runScript<List<Any>>(
                    Scripts.EXTEND,
                    ScriptOutputType.MULTI,
                    keys.all,
                    keys.messagePrefix,
                    id,
                    token,
                    ms.toString(),
                )
            }!!
        return if (r[0] == 1L) r[2] as Long to r[1] as Long else null
    }

    suspend fun status(keys: QueueKeys): List<Long> =
        picket
            .withConn(spec) {
                runScript<List<Any>>(Scripts.STATUS, ScriptOutputType.MULTI, keys.all, keys.messagePrefix)
            }!!
            .map { it as Long }

    /** The master's now, and the message's fields (empty if unknown). */
    suspend fun message(
        keys: QueueKeys,
        id: String,
    ): Pair<Long, Map<String, String>> {
        val r =
            picket.withConn(spec) {
                runScript<List<Any>>(Scripts.MESSAGE, ScriptOutputType.MULTI, emptyArray(), keys.message(id))
            }!!
        val fields = r.drop(1).chunked(2).associate { (k, v) -> k.toString() to v.toString() }
        return r[0] as Long to fields
    }

    suspend fun deadLetters(
        keys: QueueKeys,
        start: Long,
        count: Int,
    ): List<List<Any>> =
        picket
            .withConn(spec) {
                runScript<List<Any>>(
                    Scripts.DEAD_LETTERS,
                    ScriptOutputType.MULTI,
                    keys.all,
                    keys.messagePrefix,
                    start.toString(),
                    count.toString(),
                )
            }!!
            .drop(1)
            .chunked(DEAD_FIELDS)

    @Suppress("SpreadOperator") // the ids given, once
    suspend fun requeueDead(
        keys: QueueKeys,
        ids: List<String>,
    ): Long =
        picket.withConn(spec) {
            runScript<Long>(
                Scripts.REQUEUE_DEAD,
                ScriptOutputType.INTEGER,
                keys.all,
                keys.messagePrefix,
                keys.wakeChannel,
                *ids.toTypedArray(),
            )
        }!!

    suspend fun clear(keys: QueueKeys): List<Long> =
        picket
            .withConn(spec) {
                runScript<List<Any>>(
                    Scripts.CLEAR,
                    ScriptOutputType.MULTI,
                    keys.all + registry,
                    keys.messagePrefix,
                    keys.queue,
                )
            }!!
            .map { it as Long }

    suspend fun queueNames(): Set<String> = picket.withConn(spec) { smembers(registry).toList().toSet() }

    private fun flag(value: Boolean) = if (value) "1" else "0"

    companion object {
        /** now, ready left, next due, #redelivered, #dead. */
        private const val HEAD = 3
        private const val SETTLE_HEAD = 4
        private const val ENQUEUE_HEAD = 3
        private const val TAKEN_FIELDS = 7
        const val DEAD_FIELDS = 6

        fun instant(ms: Long): Instant = Instant.ofEpochMilli(ms)
    }
}

/** One message to queue: its id, its encoded payload and its options. */
internal class NewMessage(
    val id: String,
    val payload: String,
    val args: EnqueueArgs,
)

/** The options of one enqueue, as the script takes them. */
internal class EnqueueArgs(
    val delayMs: Long,
    val visibilityMs: Long,
    val update: Boolean,
    val requeue: Boolean,
    val debounce: Boolean,
    val chosen: Boolean,
)

/** One handling's result, as [Scripts.SETTLE] records it. */
internal class Settlement(
    val kind: Kind,
    val id: String,
    val token: String,
    /** Acknowledgement: ms to keep the id (0 forget, -1 the chosen-id time if chosen); retry: the backoff. */
    val ms: Long,
    /** A retry's or dead letter's error; empty for an acknowledgement. */
    val error: String,
) {
    enum class Kind(
        val code: String,
    ) {
        ACK("a"),
        RETRY("r"),
        DEAD("d"),
    }
}
