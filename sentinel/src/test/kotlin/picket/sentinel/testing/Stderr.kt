package picket.sentinel.testing

import java.io.ByteArrayOutputStream
import java.io.OutputStream
import java.io.PrintStream

/**
 * Runs [block] with `System.err` — where the tests' logger (slf4j-simple) writes — also copied aside, and returns
 * [block]'s result with the lines written meanwhile, by any thread.
 */
suspend fun <T> capturingStderr(block: suspend () -> T): Pair<T, List<String>> {
    val original = System.err
    val copy = ByteArrayOutputStream()
    val tee =
        object : OutputStream() {
            override fun write(b: Int) =
                synchronized(copy) {
                    original.write(b)
                    copy.write(b)
                }

            override fun write(
                b: ByteArray,
                off: Int,
                len: Int,
            ) = synchronized(copy) {
                original.write(b, off, len)
                copy.write(b, off, len)
            }
        }
    System.setErr(PrintStream(tee, true, Charsets.UTF_8))
    val result =
        try {
            block()
        } finally {
            System.setErr(original)
        }
    val lines = synchronized(copy) { copy.toString(Charsets.UTF_8) }.lines().filter { it.isNotBlank() }
    return result to lines
}
