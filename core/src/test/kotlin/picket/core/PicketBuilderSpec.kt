package picket.core

import io.kotest.assertions.throwables.shouldThrowExactly
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.lettuce.core.resource.DefaultClientResources
import kotlin.time.Duration.Companion.seconds

/** `Picket.builder()` with core alone on the classpath (the sentinel module's ConfigSpec declares real groups). */
class PicketBuilderSpec :
    FunSpec({
        test(
            "an instance built on the caller's resources leaves them running when closed",
        ).config(timeout = 30.seconds) {
            val resources = DefaultClientResources.create()
            try {
                Picket.builder().clientResources(resources).listener { }.build().use { picket ->
                    picket.sentinelGroups().shouldBeEmpty()
                }
                resources.eventExecutorGroup().isShuttingDown shouldBe false
            } finally {
                resources.shutdown()
            }
        }

        test("a group that cannot be declared fails build() with the declaration's error") {
            val error =
                shouldThrowExactly<InvalidSpecException> {
                    Picket.builder().sentinelGroup("main", SentinelGroup.of("127.0.0.1:26379")).build()
                }
            error.message shouldContain "picket-sentinel"
        }

        test("a group name given twice or blank is refused by the builder, naming it") {
            val group = SentinelGroup.of("127.0.0.1:26379")
            shouldThrowExactly<InvalidSpecException> {
                Picket.builder().sentinelGroup("main", group).sentinelGroups(mapOf("main" to group))
            }.message shouldBe "sentinel group 'main' is given twice to the builder"
            shouldThrowExactly<InvalidSpecException> { Picket.builder().sentinelGroup(" ", group) }.message shouldBe
                "sentinel group name is blank"
        }
    })
