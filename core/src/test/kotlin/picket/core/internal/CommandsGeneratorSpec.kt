package picket.core.internal

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import picket.core.Commands
import java.nio.file.Files
import java.nio.file.Path
import kotlin.reflect.KFunction

/**
 * Keeps the generated `Commands.kt` and `RealCommands.kt` equal to what [CommandsGenerator] writes from the Lettuce
 * on the classpath, so that a Lettuce upgrade cannot leave them stale. With `-Dpicket.regenerate=true` it rewrites
 * them instead (see the files' header for the full command).
 */
class CommandsGeneratorSpec :
    FunSpec({
        val moduleDir = Path.of(System.getProperty("basedir") ?: System.getProperty("user.dir"))
        val regenerate = System.getProperty("picket.regenerate").toBoolean()

        test("the committed Commands.kt and RealCommands.kt are exactly what the generator writes") {
            if (regenerate) {
                val changed = CommandsGenerator.write(moduleDir)
                println("picket.regenerate: ${if (changed.isEmpty()) "nothing changed" else "rewrote $changed"}")
            }
            CommandsGenerator.files().forEach { (relative, generated) ->
                val path = moduleDir.resolve(relative)
                withClue("$path differs from the generator's output; regenerate it as its header says") {
                    firstDifference(Files.readString(path), generated).shouldBeNull()
                }
            }
        }

        test("the generator writes the same text on every run") {
            CommandsGenerator.files() shouldBe CommandsGenerator.files()
        }

        // These read the compiled Commands, which is stale right after a regeneration until the next build.
        val compiled = !regenerate

        test("every member of RedisCoroutinesCommands has a counterpart in Commands, and Commands has no other")
            .config(enabled = compiled) {
                val lettuce = CommandsGenerator.members.map { CommandsGenerator.signature(it) }
                val picket = commandsMembers().map { CommandsGenerator.signature(it) }
                withClue("Lettuce members missing from Commands") { (lettuce - picket.toSet()).shouldBeEmpty() }
                withClue("Commands members that Lettuce does not have") { (picket - lettuce.toSet()).shouldBeEmpty() }
                picket shouldHaveSize lettuce.size
            }

        test("members deprecated in Lettuce are deprecated in Commands with the same message and replacement")
            .config(enabled = compiled) {
                val deprecated = CommandsGenerator.members.filter { it.deprecation() != null }
                val picket = commandsMembers().associateBy { CommandsGenerator.signature(it) }
                picket.values.count { it.deprecation() != null } shouldBe deprecated.size
                deprecated.forEach { lettuce ->
                    val mirror = picket.getValue(CommandsGenerator.signature(lettuce)).deprecation()
                    mirror shouldBe lettuce.deprecation()
                }
            }

        test("the Redis command in each KDoc is read from the method name, subcommands and module prefixes included") {
            RedisCommandNames.of("get") shouldBe "GET"
            RedisCommandNames.of("zrangebyscoreWithScores") shouldBe "ZRANGEBYSCORE"
            RedisCommandNames.of("clientSetname") shouldBe "CLIENT SETNAME"
            RedisCommandNames.of("bitopAnd") shouldBe "BITOP AND"
            RedisCommandNames.of("bfMAdd") shouldBe "BF.MADD"
            RedisCommandNames.of("cfAddNx") shouldBe "CF.ADDNX"
            RedisCommandNames.of("tdigestTrimmedMean") shouldBe "TDIGEST.TRIMMED_MEAN"
            RedisCommandNames.of("ftList") shouldBe "FT._LIST"
            RedisCommandNames.of("evalReadOnly") shouldBe "EVAL_RO"
            RedisCommandNames.of("readOnly") shouldBe "READONLY"
            RedisCommandNames.of("vembRaw") shouldBe "VEMB"
            RedisCommandNames.of("zrevrangestorebylex") shouldBe "ZRANGESTORE"
            RedisCommandNames.of("noSuchCommand").shouldBeNull()
            CommandsGenerator.members.forEach { CommandsGenerator.redisCommand(it) }
        }
    })

private fun commandsMembers(): List<KFunction<*>> =
    Commands::class.members.filterIsInstance<KFunction<*>>().filter {
        it.name !in setOf("equals", "hashCode", "toString")
    }

/** The message, replacement and level of a member's `@Deprecated`, or null. */
private fun KFunction<*>.deprecation(): Triple<String, ReplaceWith, DeprecationLevel>? =
    annotations.filterIsInstance<Deprecated>().singleOrNull()?.let { Triple(it.message, it.replaceWith, it.level) }

/** Where [committed] first differs from [generated], line by line, or null when they are equal. */
private fun firstDifference(
    committed: String,
    generated: String,
): String? {
    if (committed == generated) return null
    val left = committed.lines()
    val right = generated.lines()
    val index = (0..maxOf(left.size, right.size)).first { left.getOrNull(it) != right.getOrNull(it) }
    return "line ${index + 1}: committed `${left.getOrNull(index)}`, generated `${right.getOrNull(index)}`"
}
