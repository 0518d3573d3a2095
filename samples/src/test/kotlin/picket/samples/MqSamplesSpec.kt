package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll

/** The message queue's Java sample runs here, so it never rots; the demo's queue part ([Jobs]) runs in SamplesSpec. */
class MqSamplesSpec :
    FunSpec({
        test("the Java queue sample enqueues, de-duplicates, handles, dead-letters and listens to a plain list") {
            val lines = captureOutput { QueueFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "enqueue -> ADDED",
                    "again -> ALREADY_QUEUED",
                    "backlog: 2 ready, above 1",
                    "handled report-1 attempt 1",
                    "worker drained: true",
                    "status: done 1, dead 1",
                    "dead letter: broken after 2 attempts: java.lang.IllegalStateException: no template for broken",
                    "getMessage -> FROM REDIS-CLI",
                    "getMessage on an empty list -> null",
                )
        }
    })
