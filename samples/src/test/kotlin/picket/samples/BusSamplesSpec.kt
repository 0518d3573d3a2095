package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/** The RPC bus's Java sample runs here, so it never rots. */
class BusSamplesSpec :
    FunSpec({
        test("the Java bus sample registers, serves, calls blocking, async and through a proxy, and cleans up") {
            val lines = captureOutput { BusFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "discovered math_divide [a, b]",
                    "discovered math_sum [a, b]",
                    "sum -> 5",
                    "divide by default -> 7",
                    "divide async -> 3",
                    "remote error: java.lang.ArithmeticException: cannot divide by zero",
                    "proxy sum -> 42",
                    "proxy future failed: RemoteException",
                    "server drained: true",
                    "cleanup deleted keys: true",
                )
        }
    })

private fun captureOutput(block: () -> Unit): List<String> {
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
