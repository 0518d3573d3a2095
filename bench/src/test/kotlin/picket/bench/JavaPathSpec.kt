package picket.bench

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.maps.shouldHaveKeys
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.time.Duration.Companion.minutes

/**
 * A very short run of the Java-path benchmark alone (one round of each client, 50 platform threads and 100 virtual
 * ones), so that it never rots: every client yields operations in both modes, JFR's recordings are read, and the
 * report has its section. It checks the machinery, never how fast anything is.
 */
class JavaPathSpec :
    FunSpec({
        test("the Java path benchmark measures every client with platform and virtual threads").config(
            timeout = 4.minutes,
        ) {
            val settings =
                Settings.smoke().copy(
                    benchmarks = setOf(Settings.JAVA),
                    javaRounds = 1,
                    javaVirtualThreads = 100,
                )
            val results = Bench.run(settings) { println("[java path] $it") }

            val java = results.java.shouldNotBeNull()
            val (platform, virtual) = java.modes
            platform.virtual shouldBe false
            platform.threads shouldBe settings.callers
            platform.skipped.shouldBeNull()
            // Three clients times SET and GET, each measured once.
            platform.rounds shouldHaveSize 6
            platform.rounds.map { it.client }.toSet() shouldContainExactly JavaPathBench.NAMES.values.toSet()
            platform.rounds.forEach { it.opsPerSecond shouldBeGreaterThan 0.0 }

            virtual.virtual shouldBe true
            virtual.threads shouldBe 100
            if (Jdks.virtualThreads(null) == null) {
                virtual.skipped.shouldNotBeNull() shouldContain "no JDK ≥ 21"
            } else {
                virtual.skipped.shouldBeNull()
                virtual.java shouldContain "Java 2"
                virtual.rounds shouldHaveSize 6
                virtual.rounds.forEach { it.opsPerSecond shouldBeGreaterThan 0.0 }
                // Every client's recording was read, whatever it found.
                virtual.pinned.shouldHaveKeys(*JavaPathBench.NAMES.values.toTypedArray())
                virtual.pinned.values.forEach { it.events shouldBeGreaterThanOrEqual 0 }
            }

            val markdown = Report.markdown(results)
            markdown shouldContain "## The Java path (issue 22)"
            markdown shouldContain "### 50 platform threads"
            markdown shouldContain "### 100 virtual threads"
            JavaPathReport(java, settings).roundRatios(platform, Op.SET, JavaPathBench.JEDIS) shouldHaveSize 1
        }
    })
