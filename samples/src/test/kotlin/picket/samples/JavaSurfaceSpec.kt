package picket.samples

import io.kotest.assertions.fail
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.io.File
import java.lang.reflect.Constructor
import java.lang.reflect.Executable
import java.lang.reflect.Field
import java.lang.reflect.GenericArrayType
import java.lang.reflect.Member
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.lang.reflect.ParameterizedType
import java.lang.reflect.Type
import java.lang.reflect.TypeVariable
import java.lang.reflect.WildcardType
import java.net.JarURLConnection
import java.nio.file.Files
import java.nio.file.Paths
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer
import kotlin.coroutines.Continuation
import kotlin.time.Duration

/** The public packages of every library module; sub-packages are scanned too, except the internal ones. */
private val PACKAGES =
    listOf(
        "picket.core",
        "picket.sentinel",
        "picket.pubsub",
        "picket.mq",
        "picket.lock",
        "picket.monitor",
        "picket.bus",
        "picket.testkit",
    )

/** The baseline, a test resource: one known leak a line, sorted, after `#` comment lines. */
private const val BASELINE = "java-surface-baseline.txt"
private const val BASELINE_SOURCE = "samples/src/test/resources/$BASELINE"

/** The baseline's first lines, before the counts. */
private val HEADER =
    """
    # Known leaks into Picket's Java surface: members Java can call whose signature names a Kotlin type
    # (Continuation, Flow, kotlin.*, kotlinx.*) or an internal Picket type, whose name is mangled for a value
    # class, and companion members without a static twin. Checked by JavaSurfaceSpec (samples) in every build:
    # a leak not listed here fails it, and so does a line here that is no longer found, so the list only
    # shrinks. On failure the spec writes this file as it should be to samples/target/$BASELINE.
    """.trimIndent() + "\n"

/** How many classes the baseline's summary names, those with the most findings first. */
private const val LARGEST = 5

/**
 * Implementation packages, left out of the scan: `*.internal*` and `picket.core.engine`. `@InternalPicketApi` has
 * BINARY retention, so reflection cannot see it; every declaration that carries it today lives in one of these
 * packages, which is why excluding by package is enough. A type of these packages in a surface signature is a leak.
 */
private fun isInternalPackage(pkg: String): Boolean =
    pkg.split('.').any { it.startsWith("internal") } || pkg == "picket.core.engine" ||
        pkg.startsWith("picket.core.engine.")

/**
 * The Java surface of Picket, checked on every build (`mvn verify`, which CI runs): every member Java can call in the
 * public packages of every module, and the Kotlin or internal types its signature names. Today's leaks are listed in
 * the baseline ([BASELINE_SOURCE]); a new one fails the build, and so does a listed one that is gone, so the list only
 * shrinks as issue 22's Java layer lands. When it fails, the spec writes the list it found to
 * `samples/target/java-surface-baseline.txt` and names the lines to add or remove.
 */
class JavaSurfaceSpec :
    FunSpec({
        val surface by lazy { JavaSurface.scan(PACKAGES) }

        test("the scan reads every public package of every module, and nothing internal") {
            val perPackage = surface.classes.groupingBy { it.packageName }.eachCount()
            PACKAGES.forEach { pkg ->
                withClue("classes found in $pkg") { (perPackage[pkg] ?: 0) shouldBeGreaterThan 0 }
            }
            surface.classes.map { it.name } shouldContainAll
                listOf("picket.core.Picket", "picket.core.ConnSpec", "picket.lock.Locks", "picket.testkit.Topology")
            surface.classes.filter { isInternalPackage(it.packageName) }.shouldBeEmpty()
        }

        test("the check finds each kind of leak and passes what Java can use as it is") {
            JavaSurface.findings(LeakyFixture::class.java) shouldBe
                listOf(
                    "picket.samples.LeakyFixture#Companion.getLOG() [companion member without a static twin]",
                    "picket.samples.LeakyFixture#callback(Consumer) [kotlin.Unit]",
                    "picket.samples.LeakyFixture#fetch(String, Continuation) [kotlin.coroutines.Continuation]",
                    "picket.samples.LeakyFixture#onEach(Function1) [kotlin.Unit, kotlin.jvm.functions.Function1]",
                    "picket.samples.LeakyFixture#pair() [kotlin.Pair]",
                    "picket.samples.LeakyFixture#run(Continuation) [kotlin.coroutines.Continuation]",
                    "picket.samples.LeakyFixture#timeout-LRDsOJo(long) [value class in the signature: " +
                        "mangled name, not callable from Java]",
                    "picket.samples.LeakyFixture#unitFuture() [kotlin.Unit]",
                )
            JavaSurface.findings(LeakyFixture.Companion::class.java).shouldBeEmpty()
            JavaSurface.findings(String::class.java).shouldBeEmpty()
        }

        test("no member Java can call leaks a Kotlin or internal type beyond the baseline, which only shrinks") {
            val found = surface.findings.toSortedSet()
            val text =
                JavaSurfaceSpec::class.java.classLoader
                    .getResource(BASELINE)
                    ?.readText()
                    .orEmpty()
            val listed = text.lines().filter { it.isNotBlank() && !it.startsWith("#") }.toSortedSet()
            val expected = surface.baselineText()
            if (text == expected) return@test
            val written = File("target/$BASELINE").apply { parentFile.mkdirs() }.also { it.writeText(expected) }
            val added = found - listed
            val removed = listed - found
            fail(
                buildString {
                    if (added.isNotEmpty()) {
                        append("New leaks into the Java surface (hide them from Java, or add these lines to ")
                        append("$BASELINE_SOURCE):\n")
                        added.forEach { append("+ $it\n") }
                    }
                    if (removed.isNotEmpty()) {
                        append("Leaks fixed: remove these lines from $BASELINE_SOURCE:\n")
                        removed.forEach { append("- $it\n") }
                    }
                    val stale = added.isEmpty() && removed.isEmpty()
                    if (stale) append("The summary at the top of $BASELINE_SOURCE is stale.\n")
                    append("The whole file as it should be: ${written.absolutePath}")
                },
            )
        }

        test("every public class with a suspend function visible to Java is among the findings") {
            // The detection works (the fixture has one); the surface itself may have none left.
            JavaSurface(listOf(LeakyFixture::class.java)).suspendingMembers().size shouldBeGreaterThan 0
            val suspending = surface.suspendingMembers()
            val unlisted =
                suspending.filter { (cls, method) ->
                    val prefix = "${cls.name}#${JavaSurface.render(method)} ["
                    surface.findings.none { it.startsWith(prefix) && "kotlin.coroutines.Continuation" in it }
                }
            unlisted.map { (cls, method) -> "${cls.name}#${method.name}" }.shouldBeEmpty()
        }
    })

/** What Java sees of the [classes] Picket exports, and the [findings]: one line per member that leaks. */
private class JavaSurface(
    val classes: List<Class<*>>,
) {
    val findings: List<String> = classes.flatMap { findings(it) }.sorted()

    /** The module a class comes from: `picket.<module>` is the package of module `<module>`. */
    private fun module(line: String): String = line.split('.', '#', ' ')[1]

    /** The Java-visible methods whose last parameter is a [Continuation]: Kotlin `suspend` functions. */
    fun suspendingMembers(): List<Pair<Class<*>, Method>> =
        classes.flatMap { cls ->
            cls.declaredMethods
                .filter { it.isVisible() && it.parameterTypes.lastOrNull() == Continuation::class.java }
                .map { cls to it }
        }

    /** The baseline file's text for these findings: the summary, then the findings, sorted. */
    fun baselineText(): String {
        fun counted(entries: Map<String, Int>): String = entries.entries.joinToString(", ") { "${it.key} ${it.value}" }

        fun perModule(lines: Collection<String>): String =
            counted(lines.groupingBy { module(it) }.eachCount().toSortedMap()) + " (total ${lines.size})"
        val suspendClasses = suspendingMembers().map { it.first.name }.distinct()
        val perClass = findings.groupingBy { it.substringBefore('#').substringBefore(' ') }.eachCount()
        val largest = perClass.entries.sortedWith(compareBy({ -it.value }, { it.key })).take(LARGEST)
        return buildString {
            append(HEADER)
            append("# Findings per module: ${perModule(findings)}\n")
            append("# Classes with suspend functions visible to Java: ${perModule(suspendClasses)}\n")
            append("# Classes with the most findings: ${counted(largest.associate { it.key to it.value })}\n")
            findings.forEach { append(it).append('\n') }
        }
    }

    companion object {
        /** Loads every class of [packages] and their non-internal sub-packages, from the class path. */
        fun scan(packages: List<String>): JavaSurface {
            val loader = JavaSurfaceSpec::class.java.classLoader
            val names = packages.flatMap { classNames(it, loader) }.toSortedSet()
            val classes =
                names
                    .filterNot { isInternalPackage(it.substringBeforeLast('.')) || it in KOTLIN_ONLY }
                    .map { Class.forName(it, false, loader) }
                    .filter { it.isVisible() }
            return JavaSurface(classes)
        }

        /** The names of the classes under [pkg], from the directories and jars of the class path. */
        private fun classNames(
            pkg: String,
            loader: ClassLoader,
        ): List<String> {
            val path = pkg.replace('.', '/')
            return loader
                .getResources(path)
                .toList()
                .flatMap { url ->
                    when (url.protocol) {
                        "file" -> {
                            val root = Paths.get(url.toURI())
                            Files.walk(root).use { files ->
                                files
                                    .map { root.relativize(it).toString() }
                                    .filter { it.endsWith(".class") }
                                    .map { "$pkg." + it.removeSuffix(".class").replace(File.separatorChar, '.') }
                                    .toList()
                            }
                        }

                        "jar" -> {
                            val connection = url.openConnection() as JarURLConnection
                            connection.useCaches = false
                            connection.jarFile.use { jar ->
                                jar
                                    .entries()
                                    .toList()
                                    .map { it.name }
                                    .filter { it.startsWith("$path/") && it.endsWith(".class") }
                                    .map { it.removeSuffix(".class").replace('/', '.') }
                            }
                        }

                        else -> {
                            error("cannot list the classes of $url")
                        }
                    }
                }.filterNot { it.endsWith("module-info") || it.endsWith("package-info") }
        }

        /** `name(P1, P2)` with each parameter's erased type, without its package. */
        fun render(executable: Executable): String {
            val name = if (executable is Constructor<*>) "<init>" else executable.name
            return name + executable.parameterTypes.joinToString(", ", "(", ")") { it.typeName.substringAfterLast('.') }
        }

        /** The findings for one class: its own supertypes and bounds, then each member Java can call. */
        fun findings(cls: Class<*>): List<String> {
            val lines = mutableListOf<String>()
            val own = sortedSetOf<String>()
            val supertypes = listOfNotNull(cls.genericSuperclass) + cls.genericInterfaces
            supertypes.forEach { own.addLeaks(it, unitLeaks = true) }
            cls.typeParameters.forEach { variable -> variable.bounds.forEach { own.addLeaks(it, unitLeaks = true) } }
            if (own.isNotEmpty()) lines += "${cls.name} $own"
            val executables: List<Executable> = cls.declaredConstructors.toList() + cls.declaredMethods
            executables.filter { it.isVisible() && !it.isEnumEntries(cls) }.forEach { executable ->
                val leaks = leaks(executable)
                if (leaks.isNotEmpty()) lines += "${cls.name}#${render(executable)} $leaks"
            }
            cls.declaredFields.filter { it.isVisible() }.forEach { field ->
                val leaks = sortedSetOf<String>().apply { addLeaks(field.genericType, unitLeaks = true) }
                if (leaks.isNotEmpty()) lines += "${cls.name}#${field.name} $leaks"
                companionMembers(cls, field).forEach { lines += "${cls.name}#${field.name}.$it" }
            }
            return lines.sorted()
        }

        /** What one constructor or method leaks: in its parameters, return type and type parameters, and its name. */
        private fun leaks(executable: Executable): Set<String> {
            val leaks = sortedSetOf<String>()
            executable.genericParameterTypes.forEach { leaks.addLeaks(it, unitLeaks = true) }
            // A Unit return is void for Java; a Unit type argument (`CompletableFuture<Unit>`) is a Kotlin type.
            if (executable is Method) {
                leaks.addLeaks(executable.genericReturnType, unitLeaks = executable.genericReturnType !is Class<*>)
            }
            executable.typeParameters.forEach { variable -> variable.bounds.forEach { leaks.addLeaks(it, true) } }
            if ('-' in executable.name) leaks += "value class in the signature: mangled name, not callable from Java"
            return leaks
        }

        /**
         * The methods Java must reach through the companion [field] of [owner] (`Owner.Companion.getX()`): instance
         * methods of the companion without a static twin on the owner (`@JvmStatic`); `const` and `@JvmField`
         * members are static fields of the owner and have no method at all. Kotlin `internal` members (named
         * `name$module`) are not for Java and are left out.
         */
        private fun companionMembers(
            owner: Class<*>,
            field: Field,
        ): List<String> {
            val companion = field.type
            if (!Modifier.isStatic(field.modifiers) || companion.declaringClass != owner ||
                companion.simpleName != field.name
            ) {
                return emptyList()
            }
            val statics =
                owner.declaredMethods
                    .filter { Modifier.isStatic(it.modifiers) && it.isVisible() }
                    .map { render(it) }
                    .toSet()
            return companion.declaredMethods
                .filter { !Modifier.isStatic(it.modifiers) && it.isVisible() && '$' !in it.name }
                .filter { render(it) !in statics }
                .map { "${render(it)} [companion member without a static twin]" }
        }

        /**
         * Adds to this set the Kotlin types (`kotlin.*`, `kotlinx.*`) and internal Picket types that [type] names,
         * with its type arguments and bounds. `kotlin.Unit` counts where Java must supply it ([unitLeaks]: a
         * parameter, a supertype or a field), not in what a function returns (a return type or a [Continuation]'s
         * argument), where Java can ignore it.
         */
        private fun MutableSet<String>.addLeaks(
            type: Type,
            unitLeaks: Boolean,
        ) {
            when (type) {
                is Class<*> -> {
                    if (type.isArray) return addLeaks(type.componentType, unitLeaks)
                    if (type.leaks(unitLeaks)) add(type.name.replace('$', '.'))
                }

                is ParameterizedType -> {
                    addLeaks(type.rawType, unitLeaks)
                    type.ownerType?.let { addLeaks(it, unitLeaks) }
                    // A Continuation's argument is what a suspend function (or suspend lambda) returns.
                    val returned = type.rawType == Continuation::class.java
                    type.actualTypeArguments.forEach { addLeaks(it, unitLeaks && !returned) }
                }

                is WildcardType -> {
                    (type.upperBounds + type.lowerBounds).forEach { addLeaks(it, unitLeaks) }
                }

                is GenericArrayType -> {
                    addLeaks(type.genericComponentType, unitLeaks)
                }

                // A type variable's bounds are checked where it is declared (class or method).
                is TypeVariable<*> -> {
                    return
                }
            }
        }

        /** A Kotlin type (`kotlin.Unit` only if [unitLeaks]) or a type of an internal Picket package. */
        private fun Class<*>.leaks(unitLeaks: Boolean): Boolean =
            when {
                name == "kotlin.Unit" -> unitLeaks
                name.startsWith("kotlin.") || name.startsWith("kotlinx.") -> true
                name in KOTLIN_ONLY -> true
                else -> name.startsWith("picket.") && isInternalPackage(packageName)
            }

        /**
         * Public types made for Kotlin alone, which Java never receives: not scanned, and a finding wherever a member
         * Java can call names one. `Commands` is the suspend command surface of Kotlin blocks (Java blocks get
         * Lettuce's `RedisCommands` and `RedisAsyncCommands`); `Pipeline` is the receiver of a Kotlin pipeline block
         * (Java passes a list of commands); the test kit's Kotest extension and its coroutine write loop are for Kotlin
         * specs (Java tests use `Topology` directly).
         */
        private val KOTLIN_ONLY =
            setOf(
                "picket.core.Commands",
                "picket.core.Pipeline",
                "picket.testkit.TopologyExtension",
                "picket.testkit.WriteLoop",
            )

        /** Kotlin's `getEntries()` of an enum: generated, it cannot be hidden, and its `EnumEntries` is a `List`. */
        private fun Executable.isEnumEntries(cls: Class<*>): Boolean =
            cls.isEnum && name == "getEntries" && parameterCount == 0

        private fun Member.isVisible(): Boolean =
            (Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers)) && !isSynthetic &&
                !(this is Method && isBridge)

        /** A class Java can name: public or protected, and so is every class it is nested in. */
        private fun Class<*>.isVisible(): Boolean =
            !isSynthetic && !isAnonymousClass && !isLocalClass &&
                generateSequence(this) { it.declaringClass }
                    .all { Modifier.isPublic(it.modifiers) || Modifier.isProtected(it.modifiers) }
    }
}

/** A class that leaks on purpose, one member per kind, beside members Java can use as they are. */
class LeakyFixture {
    suspend fun fetch(key: String): String = key

    suspend fun run(): Unit = Unit

    fun pair(): Pair<String, Int> = "a" to 1

    fun onEach(block: (String) -> Unit): Unit = block("a")

    fun callback(consumer: Consumer<Unit>): Unit = consumer.accept(Unit)

    fun timeout(limit: Duration): String = limit.toString()

    fun fromJava(key: String): CompletableFuture<String> = CompletableFuture.completedFuture(key)

    fun unitFuture(): CompletableFuture<Unit> = CompletableFuture.completedFuture(Unit)

    @JvmSynthetic
    suspend fun hidden(key: String): String = key

    /** The three kinds of companion member: a plain `val` leaks; `@JvmStatic` and `const` do not. */
    companion object {
        val LOG: List<String> = listOf("log")

        @JvmStatic val ok: String = "ok"

        const val C: Int = 1
    }
}
