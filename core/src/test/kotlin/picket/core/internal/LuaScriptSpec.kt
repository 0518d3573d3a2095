package picket.core.internal

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.ScriptOutputType
import picket.testkit.TopologyExtension
import java.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toJavaDuration

/** Scripts kept as `.lua` resources: read in order without headers, refused loudly when missing, run on a server. */
class LuaScriptSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 0
            }
        val client =
            topology.dataNodes.first().let { node ->
                RedisClient.create(
                    RedisURI.Builder
                        .redis(node.host, node.port)
                        .withTimeout(5.seconds.toJavaDuration())
                        .build(),
                )
            }
        afterSpec { client.shutdown(Duration.ZERO, Duration.ofSeconds(2)) }
        val owner = LuaScriptSpec::class.java
        val code = "\nlocal x = 1\n" + "\n-- a comment in the code is sent\nreturn x + tonumber(ARGV[1])\n"

        test("a script made of resources is their code in order, each without its header, and the SHA-1 of that") {
            val script = LuaScript.resource(owner, "lua-script-spec-fragment.lua", "lua-script-spec.lua")
            script.text shouldBe code
            script.sha shouldBe "218a25585c9c28c7fb4603f225bf0a44619442c9"
        }

        test("a name with a leading slash is found from the class path's root") {
            LuaScript
                .resource(
                    owner,
                    "/picket/core/internal/lua-script-spec-fragment.lua",
                    "/picket/core/internal/lua-script-spec.lua",
                ).text shouldBe code
        }

        test("a missing resource fails at once, naming its path and the owner") {
            shouldThrow<IllegalStateException> {
                LuaScript.resource(owner, "lua-script-spec-fragment.lua", "missing.lua")
            }.message shouldBe
                "Lua script resource 'picket/core/internal/missing.lua' not found " +
                "(loading for picket.core.internal.LuaScriptSpec)"
            shouldThrow<IllegalArgumentException> { LuaScript.resource(owner) }.message shouldContain
                "at least one resource"
        }

        test("a loaded script runs: sent by its text once (NOSCRIPT), then known by its SHA-1").config(
            timeout = 10.seconds,
        ) {
            val script = LuaScript.resource(owner, "lua-script-spec-fragment.lua", "lua-script-spec.lua")
            client.connect().use { connection ->
                val commands = connection.picketCommands()
                commands.scriptExists(script.sha) shouldContainExactly listOf(false)
                commands.runScript<Long>(script, ScriptOutputType.INTEGER, emptyArray(), "41") shouldBe 42L
                commands.scriptExists(script.sha) shouldContainExactly listOf(true)
                commands.runScript<Long>(script, ScriptOutputType.INTEGER, emptyArray(), "1") shouldBe 2L
            }
        }
    })
