package picket.mq.internal

import picket.mq.DeadLetter
import picket.mq.MessageCodec
import picket.mq.MessageInfo
import picket.mq.MessageState
import picket.mq.QueueStatus
import java.time.Duration

/** The status script's reply ([QueueOps.status]) for [queue], as users see it. */
internal fun queueStatus(
    queue: String,
    s: List<Long>,
): QueueStatus =
    QueueStatus(
        queue,
        ready = s[1],
        delayed = s[2],
        inFlight = s[3],
        recentlyDone = s[4],
        dead = s[5],
        oldestReadyAge = s[6].takeIf { it >= 0 }?.let { Duration.ofMillis(it) },
        enqueued = s[7],
        done = s[8],
        retried = s[9],
        deadLettered = s[10],
        redelivered = s[11],
        serverTime = QueueOps.instant(s[0]),
    )

/**
 * Message [id] of [queue] from its fields [f] ([QueueOps.message]), its content decoded by [codec] (null once done or
 * if [codec] cannot decode it); null if the queue has no message with that id.
 */
internal fun <T> messageInfo(
    queue: String,
    id: String,
    f: Map<String, String>,
    codec: MessageCodec<T>,
): MessageInfo<T>? {
    val state = f["state"] ?: return null
    return MessageInfo(
        queue,
        id,
        STATES.getValue(state),
        f["payload"]?.let { runCatching { codec.decode(it) }.getOrNull() },
        f["attempts"]?.toInt() ?: 0,
        f["created"]?.let { QueueOps.instant(it.toLong()) },
        f["due"]?.takeIf { state == "queued" || state == "delayed" }?.let { QueueOps.instant(it.toLong()) },
        f["deadline"]?.let { QueueOps.instant(it.toLong()) },
        f["error"],
        f["rerun"] == "1",
    )
}

/** One dead letter of [queue] from its fields [f] ([QueueOps.deadLetters]), its content decoded by [codec]. */
internal fun <T> deadLetter(
    queue: String,
    f: List<Any>,
    codec: MessageCodec<T>,
): DeadLetter<T> =
    DeadLetter(
        queue,
        f[0] as String,
        (f[1] as String).let { runCatching { codec.decode(it) }.getOrNull() },
        (f[2] as Long).toInt(),
        f[3] as String,
        QueueOps.instant(f[4] as Long),
        QueueOps.instant(f[5] as Long),
    )

/** The message states as the scripts write them. */
private val STATES =
    mapOf(
        "queued" to MessageState.QUEUED,
        "delayed" to MessageState.DELAYED,
        "inflight" to MessageState.IN_FLIGHT,
        "done" to MessageState.DONE,
        "dead" to MessageState.DEAD,
    )
