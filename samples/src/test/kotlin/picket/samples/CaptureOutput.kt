package picket.samples

import java.io.ByteArrayOutputStream
import java.io.PrintStream

/**
 * Runs [block] (a sample's `main`, in this JVM) with `System.out` captured, and returns the non-empty lines it
 * printed; they are printed to the real `System.out` too, for the test report.
 */
fun captureOutput(block: () -> Unit): List<String> {
    val original = System.out
    val buffer = ByteArrayOutputStream()
    System.setOut(PrintStream(buffer, true, Charsets.UTF_8))
    try {
        block()
    } finally {
        System.setOut(original)
    }
    return buffer.toString(Charsets.UTF_8).lines().filter { it.isNotEmpty() }.also { lines ->
        lines.forEach(original::println)
    }
}
