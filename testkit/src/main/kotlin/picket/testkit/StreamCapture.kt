package picket.testkit

import java.io.ByteArrayOutputStream
import java.io.OutputStream
import java.io.PrintStream

/**
 * Copies what is written to `System.out` and `System.err` (where slf4j-simple logs) from any thread, while it is
 * open, so that a spec can assert what a program printed or logged; both still reach the real streams as they are
 * written. Closing it puts the original streams back.
 *
 * ```kotlin
 * val warnings = StreamCapture().use { capture ->
 *     Topology.start(config).close()
 *     capture.err().filter { " WARN " in it }
 * }
 * ```
 *
 * One capture at a time: captures opened inside one another see the inner one's output too, and must close in
 * reverse order.
 */
public class StreamCapture : AutoCloseable {
    private val originalOut = System.out
    private val originalErr = System.err
    private val outCopy = ByteArrayOutputStream()
    private val errCopy = ByteArrayOutputStream()

    init {
        System.setOut(PrintStream(Tee(originalOut, outCopy), true, Charsets.UTF_8))
        System.setErr(PrintStream(Tee(originalErr, errCopy), true, Charsets.UTF_8))
    }

    /** The non-blank lines written to `System.out` so far. */
    public fun out(): List<String> = lines(outCopy)

    /** The non-blank lines written to `System.err` so far. */
    public fun err(): List<String> = lines(errCopy)

    /** Puts the original `System.out` and `System.err` back. */
    override fun close() {
        System.setOut(originalOut)
        System.setErr(originalErr)
    }

    private fun lines(copy: ByteArrayOutputStream): List<String> =
        synchronized(copy) { copy.toString(Charsets.UTF_8) }.lines().filter { it.isNotBlank() }

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
}
