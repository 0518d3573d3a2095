package picket.pubsub

import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.delay
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.sentinel.testing.within
import java.time.Instant
import java.util.concurrent.CopyOnWriteArrayList

/** Publishes a sequence number through Picket every 5 ms and remembers when each acknowledged one was sent. */
class Publisher(
    private val picket: Picket,
    private val spec: ConnSpec,
    private val channel: String,
) {
    class Sent(
        val seq: Int,
        val sentAt: Instant,
        val ackedAt: Instant,
    )

    val acked = CopyOnWriteArrayList<Sent>()

    /** The failed publishes, by exception class: expected while the master is down or being switched. */
    val errors = CopyOnWriteArrayList<String>()

    suspend fun run() {
        var seq = 0
        while (true) {
            val sentAt = Instant.now()
            try {
                picket.publish(spec, channel, "$seq")
                acked += Sent(seq, sentAt, Instant.now())
            } catch (e: CancellationException) {
                throw e
            } catch (
                @Suppress("TooGenericExceptionCaught") e: Exception,
            ) {
                errors += e::class.simpleName.orEmpty()
            }
            seq++
            delay(5)
        }
    }

    fun ackedAfter(instant: Instant): Int = acked.count { it.sentAt > instant }

    /**
     * Every message sent after the listener resumed arrived; every acknowledged one that did not was acknowledged
     * within the gap the listener reported.
     */
    suspend fun check(
        resumed: PubSubEvent.Resumed,
        received: Set<Int>,
        old: Address,
    ) {
        resumed.previousAddress shouldBe old
        resumed.address shouldNotBe old
        within(5) { acked.filter { it.sentAt > resumed.resumedAt && it.seq !in received }.shouldBeEmpty() }
        val missing = acked.filter { it.seq !in received }
        println(
            "pub/sub across the fault: ${acked.size} acknowledged, $errors failed, ${missing.size} missed, " +
                "gap ${resumed.gap.toMillis()} ms (${resumed.previousAddress} -> ${resumed.address})",
        )
        missing.filter { it.ackedAt < resumed.gapStart || it.sentAt > resumed.resumedAt }.map { it.seq } shouldBe
            emptyList()
    }
}
