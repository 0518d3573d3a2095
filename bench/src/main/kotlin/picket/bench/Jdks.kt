package picket.bench

import java.io.File

/**
 * Finds a JDK that runs virtual threads (Java ≥ 21) for the Java-path benchmark, which builds for Java 17: this JVM
 * if it is one, else the JDK given (`--java-virtual-jdk=DIR`), else the newest of [SEARCHED].
 */
internal object Jdks {
    const val SEARCHED = "/usr/lib/jvm/*"
    private const val VIRTUAL_THREADS_SINCE = 21

    /** A JDK's home and its `release` file's version. */
    class Jdk(
        val home: File,
        val version: String,
    ) {
        val java: File get() = File(home, "bin/java")
        val feature: Int get() = version.substringBefore(".").substringBefore("-").toIntOrNull() ?: 0

        fun describe(): String = "Java $version (${home.path})"
    }

    /** This JVM, as the report names it. */
    fun thisJvm(): String = "${System.getProperty("java.vm.name")} ${System.getProperty("java.runtime.version")}"

    /** A JDK ≥ 21: this JVM's, [given]'s, or the newest under [SEARCHED]; null if there is none. */
    fun virtualThreads(given: String?): Jdk? {
        val own = jdk(File(System.getProperty("java.home")))
        if (own != null && own.feature >= VIRTUAL_THREADS_SINCE) return own
        if (given != null) {
            val jdk = jdk(File(given))
            require(jdk != null && jdk.feature >= VIRTUAL_THREADS_SINCE) { "$given is not a JDK of Java 21 or later" }
            return jdk
        }
        return File(SEARCHED.removeSuffix("/*"))
            .listFiles()
            .orEmpty()
            .mapNotNull { jdk(it) }
            .filter { it.feature >= VIRTUAL_THREADS_SINCE }
            .maxByOrNull { it.feature }
    }

    /** The JDK at [home], read from its `release` file; null if it is none. */
    private fun jdk(home: File): Jdk? {
        val release = File(home, "release")
        if (!release.isFile || !File(home, "bin/java").canExecute()) return null
        val version =
            release
                .readLines()
                .firstOrNull { it.startsWith("JAVA_VERSION=") }
                ?.substringAfter("=")
                ?.trim('"')
        return version?.let { Jdk(home, it) }
    }
}
