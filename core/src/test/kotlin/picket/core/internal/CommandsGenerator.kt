package picket.core.internal

import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.lettuce.core.api.coroutines.RedisCoroutinesCommands
import io.lettuce.core.protocol.CommandType
import java.nio.file.Files
import java.nio.file.Path
import kotlin.reflect.KClass
import kotlin.reflect.KFunction
import kotlin.reflect.KParameter
import kotlin.reflect.KProperty
import kotlin.reflect.KType
import kotlin.reflect.KTypeParameter
import kotlin.reflect.KTypeProjection
import kotlin.reflect.KVariance
import kotlin.reflect.full.createType
import kotlin.reflect.full.extensionReceiverParameter
import kotlin.reflect.full.valueParameters
import kotlin.reflect.jvm.javaMethod

/**
 * Writes `Commands.kt` and `RealCommands.kt` from Lettuce's `RedisCoroutinesCommands`, read by reflection: one
 * member per Lettuce member, with its name, type parameters, parameters (vararg kept), nullability, return type,
 * `suspend` modifier, `@Deprecated` and Lettuce's `@Experimental`.
 *
 * The output is deterministic (members sorted by name, then by parameter types) and already in the layout that
 * ktlint (`ktlint_official`, 120 columns) accepts. [CommandsGeneratorSpec] fails when the committed files differ
 * from it and rewrites them with `-Dpicket.regenerate=true` (the command is in the files' header).
 *
 * Members Lettuce adds need only that. When an upgrade removes or changes a member that `RealCommands` calls, the
 * main sources no longer compile and the spec cannot run: first cut both files down to their declarations
 * (`public interface Commands<K : Any, V : Any>` and `RealCommands` without a body), then regenerate.
 *
 * A shape the generator cannot write faithfully (a default value, an extension, a `where` clause, a type that
 * renders differently from Lettuce's, an annotation with arguments, a Redis command it cannot name, a line longer
 * than 120 columns) fails it with a message instead of producing different code.
 */
@OptIn(ExperimentalLettuceCoroutinesApi::class)
internal object CommandsGenerator {
    /** Paths of the generated files, relative to the `core` module. */
    const val COMMANDS_FILE: String = "src/main/kotlin/picket/core/Commands.kt"
    const val REAL_COMMANDS_FILE: String = "src/main/kotlin/picket/core/internal/RealCommands.kt"

    /** The command that rewrites both files; printed in their headers. */
    private val REGENERATE =
        listOf(
            "mvn -B -ntp test -pl core -am -Dpicket.regenerate=true -Dtest=CommandsGeneratorSpec \\",
            "    -Dsurefire.failIfNoSpecifiedTests=false -DfailIfNoTests=false",
        )

    private const val MAX_LINE = 120
    private const val INDENT = "    "
    private val DEFAULT_IMPORTS =
        setOf(
            "kotlin",
            "kotlin.annotation",
            "kotlin.collections",
            "kotlin.comparisons",
            "kotlin.io",
            "kotlin.ranges",
            "kotlin.sequences",
            "kotlin.text",
            "java.lang",
        )
    private val KEYWORDS =
        (
            "as break class continue do else false for fun if in interface is null object package return super this " +
                "throw true try typealias typeof val var when while"
        ).split(' ').toSet()
    private const val SUPPRESS_DEPRECATION = "$INDENT@Suppress(\"DEPRECATION\", \"OVERRIDE_DEPRECATION\")\n"

    /** The Lettuce interface that is mirrored. */
    val source: KClass<*> = RedisCoroutinesCommands::class

    /** `7.7.0.RELEASE`, from the manifest of Lettuce's jar. */
    val lettuceVersion: String =
        checkNotNull(source.java.`package`.implementationVersion) { "lettuce-core's manifest has no version" }
            .substringBefore('/')

    /** Every member of [source] but those of `Any`, in the order they are written. */
    val members: List<KFunction<*>> =
        source.members
            .filterIsInstance<KFunction<*>>()
            .filter { it.name !in setOf("equals", "hashCode", "toString") }
            .onEach(::checkMirrorable)
            .sortedWith(compareBy({ it.name }, { signature(it) }))

    /** Both files, keyed by their path relative to the `core` module. */
    fun files(): Map<String, String> =
        mapOf(COMMANDS_FILE to commandsFile(), REAL_COMMANDS_FILE to realCommandsFile()).onEach { (path, content) ->
            val long = content.lines().firstOrNull { it.length > MAX_LINE }
            check(long == null) { "$path would have a line longer than $MAX_LINE: teach the generator to wrap $long" }
        }

    /** Writes both files under [moduleDir] (the `core` module); returns the paths whose content changed. */
    fun write(moduleDir: Path): List<Path> =
        files().mapNotNull { (relative, content) ->
            val path = moduleDir.resolve(relative)
            if (Files.exists(path) && Files.readString(path) == content) {
                null
            } else {
                Files.createDirectories(path.parent)
                Files.writeString(path, content)
                path
            }
        }

    /**
     * Text such as `<> mget(vararg K): kotlinx.coroutines.flow.Flow<io.lettuce.core.KeyValue<K, V>>` that identifies
     * a member across interfaces: type parameters are written by name, so that `Commands` and Lettuce's interface
     * compare equal.
     */
    fun signature(function: KFunction<*>): String {
        val parameters =
            function.valueParameters.joinToString(", ") { (if (it.isVararg) "vararg " else "") + qualified(it.type) }
        val suspend = if (function.isSuspend) "suspend " else ""
        val typeParameters = function.typeParameters.joinToString(", ") { "${it.name} : ${it.upperBounds}" }
        return "<$typeParameters> ${function.name}($parameters): $suspend${qualified(function.returnType)}"
    }

    /** The Redis command a member sends, as named in its KDoc (`GET`, `CLIENT SETNAME`, `FT.SEARCH`). */
    fun redisCommand(function: KFunction<*>): String =
        checkNotNull(RedisCommandNames.of(function.name)) {
            "cannot tell which Redis command ${function.name} sends: add it to RedisCommandNames.IRREGULAR"
        }

    private fun commandsFile(): String {
        val imports = Imports("picket.core")
        imports.reserve("Commands")
        members.forEach { imports.collect(it) }
        members.forEach { imports.reference(it.javaMethod!!.declaringClass.kotlin) }
        val body =
            members.joinToString("\n") { function ->
                buildString {
                    append(memberKDoc(function, imports))
                    annotations(function, imports).forEach { append(INDENT).append(it).append('\n') }
                    val modifiers = if (function.isSuspend) "public suspend fun" else "public fun"
                    append(signatureLines(INDENT, modifiers, function, imports, body = null))
                }
            }
        return buildString {
            append(header())
            append("package picket.core\n\n")
            append(imports.render())
            append(COMMANDS_KDOC)
            append("public interface Commands<K : Any, V : Any> {\n")
            append(body)
            append("}\n")
        }
    }

    private fun realCommandsFile(): String {
        val imports = Imports("picket.core.internal")
        imports.reserve("RealCommands", "CommandTracker")
        imports.reference(ExperimentalLettuceCoroutinesApi::class)
        imports.reference(source)
        imports.reference("picket.core.Commands")
        members.forEach { imports.collect(it) }
        val body =
            members.joinToString("\n") { function ->
                buildString {
                    if (function.annotations.any { it is Deprecated }) append(SUPPRESS_DEPRECATION)
                    val modifiers = if (function.isSuspend) "override suspend fun" else "override fun"
                    append(signatureLines(INDENT, modifiers, function, imports, body = delegation(function)))
                }
            }
        return buildString {
            append(header())
            append("package picket.core.internal\n\n")
            append(imports.render())
            append(REAL_COMMANDS_KDOC)
            append("@OptIn(ExperimentalLettuceCoroutinesApi::class)\n")
            append("internal class RealCommands<K : Any, V : Any>(\n")
            append(INDENT).append("private val delegate: RedisCoroutinesCommands<K, V>,\n")
            append(INDENT).append("private val tracker: CommandTracker,\n")
            append(") : Commands<K, V> {\n")
            append(body)
            append("}\n")
        }
    }

    private fun header(): String =
        """
        |// GENERATED by picket.core.internal.CommandsGenerator (core/src/test/kotlin) from
        |// io.lettuce.core.api.coroutines.RedisCoroutinesCommands of io.lettuce:lettuce-core $lettuceVersion.
        |// Do not edit: CommandsGeneratorSpec fails when this file differs from the generator's output.
        |// Regenerate (after a Lettuce upgrade), then build again:
        |${REGENERATE.joinToString("\n") { "//     $it" }}
        |
        |
        """.trimMargin()

    private fun memberKDoc(
        function: KFunction<*>,
        imports: Imports,
    ): String {
        val link = "[${imports.name(function.javaMethod!!.declaringClass.kotlin)}.${function.name}]"
        val command = redisCommand(function)
        val sentence =
            if (command == RedisCommandNames.ANY) {
                "Any Redis command, named by its [ProtocolKeyword]; mirrors $link."
            } else {
                "Redis `$command`; mirrors $link."
            }
        val oneLine = "$INDENT/** $sentence */\n"
        return if (oneLine.length - 1 <= MAX_LINE) oneLine else "$INDENT/**\n$INDENT * $sentence\n$INDENT */\n"
    }

    private fun annotations(
        function: KFunction<*>,
        imports: Imports,
    ): List<String> =
        function.annotations.map { annotation ->
            if (annotation is Deprecated) {
                deprecated(annotation)
            } else {
                "@${imports.name(annotation.annotationClass)}"
            }
        }

    private fun deprecated(annotation: Deprecated): String {
        val replaceWith =
            annotation.replaceWith.takeIf { it.expression.isNotEmpty() }?.let { replace ->
                (listOf(replace.expression) + replace.imports).joinToString(", ", "ReplaceWith(", ")") { literal(it) }
            }
        val level = annotation.level.takeIf { it != DeprecationLevel.WARNING }?.let { "level = DeprecationLevel.$it" }
        val arguments = listOfNotNull(literal(annotation.message), replaceWith, level)
        val oneLine = arguments.joinToString(", ", "@Deprecated(", ")")
        return if (INDENT.length + oneLine.length <= MAX_LINE) {
            oneLine
        } else {
            arguments.joinToString("", "@Deprecated(\n", "$INDENT)") { "$INDENT$INDENT$it,\n" }
        }
    }

    private fun delegation(function: KFunction<*>): String {
        val names = function.typeParameters.map { it.name }
        val typeArguments = if (names.isEmpty()) "" else names.joinToString(", ", "<", ">")
        val arguments =
            function.valueParameters.joinToString(", ") { (if (it.isVararg) "*" else "") + identifier(it.name!!) }
        val call = "delegate.${function.name}$typeArguments($arguments)"
        // Flow-returning members are counted when the flow is handed out, before it runs: some of them write
        // (HGETDEL, XREADGROUP, …), and a block that touched one must never be taken for one of which nothing ran.
        return "tracker.track { $call }"
    }

    /**
     * The signature in ktlint's layout: on one line when it has at most one parameter and fits, else one parameter
     * per line with a trailing comma. A [body] expression follows `=` on the same line when it fits, else on the next.
     */
    private fun signatureLines(
        indent: String,
        modifiers: String,
        function: KFunction<*>,
        imports: Imports,
        body: String?,
    ): String {
        val typeParameters =
            function.typeParameters
                .map { typeParameter(it, imports) }
                .let { if (it.isEmpty()) "" else it.joinToString(", ", "<", "> ") }
        val parameters = function.valueParameters.map { parameter(it, imports) }
        val returns = ": ${imports.type(function.returnType)}"
        val head = "$indent$modifiers $typeParameters${function.name}("
        val single = head + parameters.joinToString(", ") + ")" + returns
        val lines =
            if (parameters.size <= 1 && single.length <= MAX_LINE) {
                single
            } else {
                parameters.joinToString("", "$head\n", "$indent)$returns") { "$indent$INDENT$it,\n" }
            }
        if (body == null) return lines + "\n"
        val lastLine = lines.substringAfterLast('\n')
        return if (lastLine.length + body.length + 3 <= MAX_LINE) {
            "$lines = $body\n"
        } else {
            "$lines =\n$indent$INDENT$body\n"
        }
    }

    private fun typeParameter(
        parameter: KTypeParameter,
        imports: Imports,
    ): String {
        val bound = parameter.upperBounds.single()
        return if (qualified(bound) == "kotlin.Any?") parameter.name else "${parameter.name} : ${imports.type(bound)}"
    }

    private fun parameter(
        parameter: KParameter,
        imports: Imports,
    ): String {
        val type = if (parameter.isVararg) varargElement(parameter.type) else parameter.type
        val vararg = if (parameter.isVararg) "vararg " else ""
        return "$vararg${identifier(parameter.name!!)}: ${imports.type(type)}"
    }

    private fun checkMirrorable(function: KFunction<*>) {
        check(function.extensionReceiverParameter == null) { "${function.name} is an extension" }
        function.valueParameters.forEach { parameter ->
            check(!parameter.isOptional) {
                "${function.name}(${parameter.name}) has a default value, which reflection cannot read"
            }
            check(parameter.name !in setOf("delegate", "tracker")) {
                "${function.name}(${parameter.name}) would shadow a property of RealCommands"
            }
        }
        function.typeParameters.forEach { parameter ->
            check(parameter.upperBounds.size == 1 && !parameter.isReified) {
                "${function.name}<${parameter.name}>: teach the generator to write `where` clauses"
            }
        }
        val types = function.valueParameters.map { it.type } + function.returnType
        types.forEach { type ->
            check(qualified(type) == type.toString()) {
                "${function.name}: cannot render $type (rendered as ${qualified(type)})"
            }
        }
        function.annotations.forEach { annotation ->
            check(
                annotation is Deprecated ||
                    annotation.annotationClass.members.none { it is KProperty<*> },
            ) {
                "${function.name}: annotation $annotation has arguments; teach the generator to write it"
            }
        }
    }

    private fun varargElement(type: KType): KType =
        PRIMITIVE_ARRAYS[type.classifier]
            ?: type.arguments
                .singleOrNull()
                ?.type
                ?.takeIf { (type.classifier as KClass<*>).java.isArray }
            ?: error("vararg of $type")

    private val PRIMITIVE_ARRAYS: Map<KClass<*>, KType> =
        mapOf(
            BooleanArray::class to Boolean::class,
            ByteArray::class to Byte::class,
            CharArray::class to Char::class,
            DoubleArray::class to Double::class,
            FloatArray::class to Float::class,
            IntArray::class to Int::class,
            LongArray::class to Long::class,
            ShortArray::class to Short::class,
        ).mapValues { (_, element) -> element.createType() }

    private fun identifier(name: String): String = if (name in KEYWORDS) "`$name`" else name

    private fun literal(text: String): String =
        text
            .replace("\\", "\\\\")
            .replace("\"", "\\\"")
            .replace("$", "\\$")
            .let { "\"$it\"" }

    /** [type] with fully qualified class names, the way [KType.toString] writes it. */
    private fun qualified(type: KType): String = render(type) { it.qualifiedName!! }

    private fun render(
        type: KType,
        className: (KClass<*>) -> String,
    ): String {
        val base =
            when (val classifier = type.classifier) {
                is KTypeParameter -> classifier.name
                is KClass<*> -> className(classifier) + arguments(type.arguments, className)
                else -> error("unsupported type $type")
            }
        return if (type.isMarkedNullable) "$base?" else base
    }

    private fun arguments(
        arguments: List<KTypeProjection>,
        className: (KClass<*>) -> String,
    ): String =
        if (arguments.isEmpty()) {
            ""
        } else {
            arguments.joinToString(", ", "<", ">") { projection ->
                val type = projection.type
                when (projection.variance) {
                    null -> "*"
                    KVariance.INVARIANT -> render(type!!, className)
                    KVariance.IN -> "in " + render(type!!, className)
                    KVariance.OUT -> "out " + render(type!!, className)
                }
            }
        }

    /**
     * Imports of one file: a class is imported (by its outermost class) unless its package is imported by
     * default; simple names that two classes share are written fully qualified instead.
     */
    private class Imports(
        private val ownPackage: String,
    ) {
        /** Names declared in this file or package, and type parameter names: never shadowed by an import. */
        private val reserved = mutableSetOf("K", "V", "T")
        private val units = sortedSetOf<String>()

        fun reserve(vararg names: String) {
            reserved += names
        }

        fun collect(function: KFunction<*>) {
            (
                function.valueParameters.map { it.type } + function.returnType +
                    function.typeParameters.flatMap { it.upperBounds }
            ).forEach(::collect)
            function.annotations.filter { it !is Deprecated }.forEach { reference(it.annotationClass) }
        }

        fun reference(kClass: KClass<*>) {
            reference(unit(kClass).joinToString("."))
        }

        /** Makes the outermost class [qualifiedName] (`io.lettuce.core.GeoSearch`) known to this file. */
        fun reference(qualifiedName: String) {
            units += qualifiedName
        }

        private fun collect(type: KType) {
            (type.classifier as? KClass<*>)?.let(::reference)
            type.arguments.forEach { projection -> projection.type?.let(::collect) }
        }

        fun type(type: KType): String = render(type, ::name)

        fun name(kClass: KClass<*>): String {
            val (packageName, classPath) = split(kClass)
            return if (imported(packageName, classPath.first())) {
                classPath.joinToString(".")
            } else {
                kClass.qualifiedName!!
            }
        }

        fun render(): String {
            val lines =
                units
                    .map { it.substringBeforeLast('.') to it.substringAfterLast('.') }
                    .filter { (packageName, simpleName) ->
                        packageName !in DEFAULT_IMPORTS && packageName != ownPackage &&
                            imported(packageName, simpleName)
                    }.map { (packageName, simpleName) -> "import $packageName.$simpleName" }
            return if (lines.isEmpty()) "" else lines.sortedWith(IMPORT_ORDER).joinToString("\n", postfix = "\n\n")
        }

        private fun imported(
            packageName: String,
            simpleName: String,
        ): Boolean {
            if (packageName in DEFAULT_IMPORTS || packageName == ownPackage) return true
            val sharing = units.count { it.substringAfterLast('.') == simpleName }
            return sharing == 1 && simpleName !in reserved
        }

        private fun unit(kClass: KClass<*>): List<String> {
            val (packageName, classPath) = split(kClass)
            return listOf(packageName, classPath.first())
        }
    }

    /** `io.lettuce.core` and `[GeoSearch, GeoRef]` for `io.lettuce.core.GeoSearch.GeoRef`. */
    private fun split(kClass: KClass<*>): Pair<String, List<String>> {
        val segments = kClass.qualifiedName!!.split('.')
        val firstClass = segments.indexOfFirst { it.first().isUpperCase() }
        return segments.take(firstClass).joinToString(".") to segments.drop(firstClass)
    }

    /** ktlint_official's import layout: everything else, then `java`, `javax` and `kotlin`, each sorted. */
    private val IMPORT_ORDER: Comparator<String> =
        compareBy<String> { line ->
            val path = line.removePrefix("import ")
            when {
                path.startsWith("java.") -> 1
                path.startsWith("javax.") -> 2
                path.startsWith("kotlin.") -> 3
                else -> 0
            }
        }.thenBy { it }

    private val COMMANDS_KDOC =
        """
        |/**
        | * Every Redis command that Lettuce offers, as suspend functions, for use inside `withConn { }` blocks.
        | *
        | * Each member mirrors the member of the same name and signature of Lettuce's
        | * [io.lettuce.core.api.coroutines.RedisCoroutinesCommands] and behaves exactly like it: the same arguments and
        | * results, and Lettuce's exceptions pass through unchanged ([io.lettuce.core.RedisCommandExecutionException]
        | * carries the error reply of Redis). Picket owns this interface so that its callers need no opt-in to Lettuce's
        | * experimental coroutine API; it is generated from Lettuce's interface and never edited by hand.
        | *
        | * Members that return a [Flow] are not suspending: the flow is cold, and the command is sent when it is
        | * collected.
        | *
        | * ```kotlin
        | * withConn(spec) {
        | *     set("visits", "0")
        | *     incr("visits") // 1
        | *     hgetall("user:42").toList() // [KeyValue[name, Ada], …]
        | * }
        | * ```
        | *
        | * @param K the type of keys.
        | * @param V the type of values.
        | */
        |
        """.trimMargin()

    private val REAL_COMMANDS_KDOC =
        """
        |/**
        | * [Commands] over Lettuce's coroutine API: each member calls the same member of [delegate] and is counted by
        | * [tracker] when it returns: suspending ones once they complete, Flow-returning ones when the flow is handed
        | * out (before it is collected), so that a block that touched a writing flow is never retried as untouched.
        | */
        |
        """.trimMargin()
}

/**
 * Names the Redis command that a Lettuce method sends, from the method's name: the longest camel-case prefix that
 * names a command of Lettuce's [CommandType] (`zrangebyscoreWithScores` is `ZRANGEBYSCORE`, `bfMAdd` is
 * `BF.MADD`), followed by the subcommand for container commands (`clientSetname` is `CLIENT SETNAME`).
 * [IRREGULAR] covers the names these rules get wrong; a name they cannot resolve fails the generator.
 */
internal object RedisCommandNames {
    /** What `dispatch` sends: any command. */
    const val ANY: String = "*"

    /** Lettuce's [CommandType] constants that name a variant of a command rather than a Redis command. */
    private val NOT_COMMANDS = setOf("VEMBRAW", "VLINKSWITHSCORES", "VSIMWITHSCORES")

    /** Commands whose first argument names what runs. */
    private val CONTAINERS =
        (
            "ACL BITOP CLIENT CLUSTER COMMAND CONFIG DEBUG FUNCTION HOTKEYS " +
                "MEMORY OBJECT PUBSUB SCRIPT SLOWLOG XGROUP XINFO"
        ).split(' ')
            .toSet()

    private val IRREGULAR =
        mapOf(
            "aclLogReset" to "ACL LOG RESET",
            "clientNoEvict" to "CLIENT NO-EVICT",
            "clientNoTouch" to "CLIENT NO-TOUCH",
            "debugCrashAndRecover" to "DEBUG CRASH-AND-RECOVER",
            "dispatch" to ANY,
            "ftCursordel" to "FT.CURSOR DEL",
            "ftCursorread" to "FT.CURSOR READ",
            "replicaofNoOne" to "REPLICAOF NO ONE",
            "slaveofNoOne" to "SLAVEOF NO ONE",
            "vClearAttributes" to "VSETATTR",
            "zaddincr" to "ZADD",
            "zrangestorebylex" to "ZRANGESTORE",
            "zrangestorebyscore" to "ZRANGESTORE",
            "zrevrangestore" to "ZRANGESTORE",
            "zrevrangestorebylex" to "ZRANGESTORE",
            "zrevrangestorebyscore" to "ZRANGESTORE",
        )

    /** Protocol names (`FT.SEARCH`, `EVAL_RO`) by their letters and digits only (`FTSEARCH`, `EVALRO`). */
    private val COMMANDS: Map<String, String> =
        CommandType.entries
            .map { String(it.bytes) }
            .filter { it !in NOT_COMMANDS }
            .associateBy { name -> name.filter { it.isLetterOrDigit() } }

    /** The command [methodName] sends, or null when the rules cannot tell. */
    fun of(methodName: String): String? {
        IRREGULAR[methodName]?.let { return it }
        // `evalReadOnly` sends EVAL_RO; `readOnly` itself sends READONLY.
        val name = methodName.take(1) + methodName.drop(1).replace("ReadOnly", "Ro")
        val words =
            Regex("[A-Z]?[a-z0-9]*")
                .findAll(name)
                .map { it.value }
                .filter { it.isNotEmpty() }
                .toList()
        for (length in words.size downTo 1) {
            val command = COMMANDS[words.take(length).joinToString("").uppercase()] ?: continue
            val rest = words.drop(length).joinToString("").uppercase()
            return if (command in CONTAINERS && rest.isNotEmpty()) "$command $rest" else command
        }
        return null
    }
}
