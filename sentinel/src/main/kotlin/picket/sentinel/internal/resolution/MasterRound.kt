package picket.sentinel.internal.resolution

import io.github.oshai.kotlinlogging.KotlinLogging
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import picket.core.Address
import picket.core.MasterDownException
import picket.core.MasterNameUnknownException
import picket.core.PicketEvent
import picket.core.SentinelsUnreachableException
import picket.core.internal.events.EventBus

private val log = KotlinLogging.logger {}

/**
 * One round of questions to a group's sentinels about [masterName]: [inTurn] until one gives a usable answer, or,
 * for a cold resolution, [together]. An answer counts unless it flags the master down or carries a config-epoch
 * older than the one followed; every sentinel that gave none emits a [PicketEvent.SentinelError], and a round that
 * found no usable answer throws one exception naming each sentinel and why.
 */
internal class MasterRound(
    private val state: GroupState,
    private val queries: SentinelQueries,
    private val bus: EventBus,
    private val masterName: String,
) {
    private val failures = LinkedHashMap<Address, Throwable>()
    private val unknown = mutableListOf<Address>()
    private var flaggedDown: Address? = null

    /**
     * Asks [sentinels] in turn; returns the first usable answer and its sentinel.
     *
     * @throws MasterNameUnknownException, [MasterDownException] or [SentinelsUnreachableException] if none is usable.
     */
    suspend fun inTurn(sentinels: List<Address>): Pair<MasterAnswer, Address> {
        for (sentinel in sentinels) usable(sentinel, ask(sentinel))?.let { return it to sentinel }
        unanswered()
    }

    /**
     * A cold resolution: an instance that follows no config-epoch for the name yet cannot tell a sentinel that
     * slept through a failover (it still names the old master, which still says `master` for seconds) from the
     * others by asking one. So [sentinels] are asked at once, and of the usable answers that arrive until
     * [WINDOW_MS] after the first one (or until all have answered), the one with the highest config-epoch is
     * returned; among equal epochs the first in [sentinels]. An older one is a [PicketEvent.SentinelError]. A
     * sentinel that is down answers at once with an error; a slow or paused one costs the window, not its timeout.
     *
     * @throws MasterNameUnknownException, [MasterDownException] or [SentinelsUnreachableException] if none is usable.
     */
    suspend fun together(sentinels: List<Address>): Pair<MasterAnswer, Address> {
        val replies = replies(sentinels)
        val usable = sentinels.mapNotNull { sentinel -> replies[sentinel]?.let { usable(sentinel, it) }?.to(sentinel) }
        val best = usable.maxWithOrNull(compareBy { it.first.configEpoch ?: -1L }) ?: unanswered()
        val (answer, from) = best
        usable.filter { (it.first.configEpoch ?: -1L) < (answer.configEpoch ?: -1L) }.forEach { (older, sentinel) ->
            val reason =
                "names ${older.address} at config-epoch ${older.configEpoch}, older than ${answer.configEpoch} of " +
                    "${answer.address} from $from"
            log.info { "group ${state.name}: $masterName: sentinel $sentinel $reason" }
            fail(sentinel, IllegalStateException(reason))
        }
        return best
    }

    /**
     * Each sentinel's reply, asked all at once: every reply that arrives until [WINDOW_MS] after the first usable
     * one, or every reply if none is usable; the questions still open then are cancelled (their connections close).
     */
    private suspend fun replies(sentinels: List<Address>): Map<Address, Result<MasterAnswer?>> =
        coroutineScope {
            val arrivals = Channel<Pair<Address, Result<MasterAnswer?>>>(Channel.UNLIMITED)
            val questions = sentinels.map { sentinel -> launch { arrivals.send(sentinel to ask(sentinel)) } }
            val replies = LinkedHashMap<Address, Result<MasterAnswer?>>()
            var until: Long? = null
            while (replies.size < sentinels.size) {
                val left = until?.let { (it - System.nanoTime()) / NANOS_PER_MILLI }
                val next =
                    when {
                        left == null -> arrivals.receive()
                        left <= 0 -> null
                        else -> withTimeoutOrNull(left) { arrivals.receive() }
                    } ?: break
                replies[next.first] = next.second
                val usable = next.second.getOrNull()?.let { objection(it) == null } == true
                if (until == null && usable) until = System.nanoTime() + WINDOW_MS * NANOS_PER_MILLI
            }
            questions.forEach { it.cancel() }
            replies
        }

    /** [sentinel]'s answer (null: it does not monitor the name), or why it gave none. */
    private suspend fun ask(sentinel: Address): Result<MasterAnswer?> =
        try {
            Result.success(queries.master(sentinel, state.config, masterName))
        } catch (e: CancellationException) {
            throw e
        } catch (
            @Suppress("TooGenericExceptionCaught") e: Exception,
        ) {
            Result.failure(e)
        }

    /** The answer in [reply] if it counts; otherwise null, with why recorded for [sentinel]. */
    private fun usable(
        sentinel: Address,
        reply: Result<MasterAnswer?>,
    ): MasterAnswer? {
        val answer =
            reply.getOrElse { e ->
                fail(sentinel, e)
                return null
            }
        if (answer == null) {
            unknown += sentinel
            return null
        }
        val objection = objection(answer) ?: return answer
        if (flaggedDown == null && answer.flags.any { it in DOWN_FLAGS }) flaggedDown = answer.address
        fail(sentinel, IllegalStateException(objection))
        return null
    }

    /** Why [answer] does not count, or null if it does: the master flagged down, or an epoch older than followed. */
    private fun objection(answer: MasterAnswer): String? {
        val down = answer.flags.intersect(DOWN_FLAGS)
        if (down.isNotEmpty()) return "flags master ${answer.address} ${down.sorted()}"
        val followed = state.epochs[masterName]
        val epoch = answer.configEpoch
        if (epoch != null && followed != null && epoch < followed) {
            return "names ${answer.address} at config-epoch $epoch, older than the $followed already followed"
        }
        return null
    }

    private fun fail(
        sentinel: Address,
        cause: Throwable,
    ) {
        failures[sentinel] = cause
        bus.emit(PicketEvent.SentinelError(state.name, sentinel, masterName, cause))
    }

    /** No usable answer: the one exception that says why, after a ResolutionFailed event. */
    private fun unanswered(): Nothing {
        unknown.forEach { failures[it] = IllegalStateException("does not monitor '$masterName'") }
        val down = flaggedDown
        val error =
            when {
                failures.size == unknown.size -> MasterNameUnknownException(state.name, masterName, unknown)
                down != null -> MasterDownException(state.name, masterName, down, failures)
                else -> SentinelsUnreachableException(state.name, masterName, failures)
            }
        bus.emit(PicketEvent.ResolutionFailed(state.name, masterName, error))
        throw error
    }

    companion object {
        /**
         * How long a cold resolution waits for the other sentinels' answers after the first usable one. Sentinels
         * that answer at all answer within a few round trips (a few ms on loopback); this bounds what a paused or
         * slow one costs a start-up.
         */
        const val WINDOW_MS = 100L

        private val DOWN_FLAGS = setOf("s_down", "o_down")
        private const val NANOS_PER_MILLI = 1_000_000L
    }
}
