package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import kotlin.time.Duration.Companion.seconds

/** The Java configuration sample runs here, so that it never rots. */
class ConfigSamplesSpec :
    FunSpec({
        test("the Java configuration sample writes through a builder's group and a URI's, and reads by properties")
            .config(timeout = 120.seconds) {
                val lines = captureOutput { ConfigFromJava.main(emptyArray()) }
                lines shouldContainExactly
                    listOf(
                        "builder: SET -> OK",
                        "URI: SET -> OK",
                        "properties: GET -> v1 on a slave",
                        "listener saw MasterResolved: true",
                    )
            }
    })
