package picket.samples

import java.io.ByteArrayOutputStream
import java.io.OutputStream
import java.io.PrintStream

/** What a sample printed: [out] on `System.out`, [err] on `System.err` (where slf4j-simple logs), non-empty lines. */
class Captured(
    val out: List<String>,
    val err: List<String>,
)

/**
 * Runs [block] (a sample's `main`, in this JVM) with `System.out` and `System.err` captured, and returns what each
 * received, from any thread; both still reach the real streams as they are written, for the test report.
 */
fun capture(block: () -> Unit): Captured {
    val originalOut = System.out
    val originalErr = System.err
    val out = ByteArrayOutputStream()
    val err = ByteArrayOutputStream()
    System.setOut(PrintStream(Tee(originalOut, out), true, Charsets.UTF_8))
    System.setErr(PrintStream(Tee(originalErr, err), true, Charsets.UTF_8))
    try {
        block()
    } finally {
        System.setOut(originalOut)
        System.setErr(originalErr)
    }
    return Captured(lines(out), lines(err))
}

/** Runs [block] with `System.out` captured (see [capture]) and returns the non-empty lines it printed. */
fun captureOutput(block: () -> Unit): List<String> = capture(block).out

private fun lines(buffer: ByteArrayOutputStream): List<String> =
    synchronized(buffer) { buffer.toString(Charsets.UTF_8) }.lines().filter { it.isNotEmpty() }

/** Writes to [real] and keeps a copy in [copy]. */
private class Tee(
    private val real: PrintStream,
    private val copy: ByteArrayOutputStream,
) : OutputStream() {
    override fun write(b: Int) =
        synchronized(copy) {
            real.write(b)
            copy.write(b)
        }

    override fun write(
        b: ByteArray,
        off: Int,
        len: Int,
    ) = synchronized(copy) {
        real.write(b, off, len)
        copy.write(b, off, len)
    }
}
