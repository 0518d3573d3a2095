package picket.samples

import picket.testkit.StreamCapture

/** What a sample printed: [out] on `System.out`, [err] on `System.err` (where slf4j-simple logs), non-empty lines. */
class Captured(
    val out: List<String>,
    val err: List<String>,
)

/**
 * Runs [block] (a sample's `main`, in this JVM) with `System.out` and `System.err` captured ([StreamCapture]), and
 * returns what each received, from any thread; both still reach the real streams as they are written.
 */
fun capture(block: () -> Unit): Captured =
    StreamCapture().use { capture ->
        block()
        Captured(capture.out(), capture.err())
    }

/** Runs [block] with `System.out` captured (see [capture]) and returns the non-empty lines it printed. */
fun captureOutput(block: () -> Unit): List<String> = capture(block).out
