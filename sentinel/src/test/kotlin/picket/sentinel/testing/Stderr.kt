package picket.sentinel.testing

import picket.testkit.StreamCapture

/**
 * Runs [block] with `System.err` — where the tests' logger (slf4j-simple) writes — also copied aside
 * ([StreamCapture]), and returns [block]'s result with the lines written meanwhile, by any thread.
 */
suspend fun <T> capturingStderr(block: suspend () -> T): Pair<T, List<String>> =
    StreamCapture().use { capture ->
        val result = block()
        result to capture.err()
    }
