package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll

/** The Java sample of binary pub/sub runs here against a real topology, so it never rots. */
class BinaryPubSubSamplesSpec :
    FunSpec({
        timeout = 120_000

        test("the Java binary pub/sub sample publishes a serialized object and every byte value, received unchanged") {
            val lines = captureOutput { BinaryPubSubFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "PUBLISH orders (28 bytes) -> 1 receiver(s)",
                    "received order: Order[id=42, item=espresso beans, quantity=3]",
                    "received raw.bytes: 256 bytes, all kept: true",
                )
        }
    })
