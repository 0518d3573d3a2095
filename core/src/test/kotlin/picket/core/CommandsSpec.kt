package picket.core

import io.kotest.assertions.throwables.shouldThrowExactly
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisCommandExecutionException
import io.lettuce.core.RedisURI
import io.lettuce.core.SortArgs
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import picket.core.internal.CommandTracker
import picket.core.internal.picketCommands
import picket.testkit.TopologyExtension
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** Picket's generated [Commands] against a real redis-server: values, flows, error replies and the tracker. */
class CommandsSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 0
            }
        val node = topology.dataNodes.first()
        val client =
            RedisClient.create(
                RedisURI
                    .builder()
                    .withHost(node.host)
                    .withPort(node.port)
                    .withTimeout(Duration.ofSeconds(5))
                    .build(),
            )
        val connection = client.connect()
        afterSpec {
            connection.close()
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2))
        }
        val timeout = 10.seconds

        test("set, get, incr and del return what Redis answers").config(timeout = timeout) {
            val commands = connection.picketCommands()
            commands.set("plain:greeting", "hello") shouldBe "OK"
            commands.get("plain:greeting") shouldBe "hello"
            commands.incr("plain:visits") shouldBe 1L
            commands.incr("plain:visits") shouldBe 2L
            commands.get("plain:visits") shouldBe "2"
            commands.del("plain:greeting", "plain:visits", "plain:missing") shouldBe 2L
            commands.get("plain:greeting") shouldBe null
        }

        test("a hash is written field by field and read back whole").config(timeout = timeout) {
            val commands = connection.picketCommands()
            commands.hset("hash:ada", mapOf("name" to "Ada", "born" to "1815")) shouldBe 2L
            commands.hget("hash:ada", "name") shouldBe "Ada"
            commands.hincrby("hash:ada", "born", 1) shouldBe 1816L
            commands.hlen("hash:ada") shouldBe 2L
            commands.hgetall("hash:ada").toList().map { it.key to it.value } shouldContainExactlyInAnyOrder
                listOf("name" to "Ada", "born" to "1816")
        }

        test("a Flow-returning command sends when collected and yields every element").config(timeout = timeout) {
            val commands = connection.picketCommands()
            commands.mset(mapOf("flow:a" to "1", "flow:b" to "2")) shouldBe "OK"
            val values = commands.mget("flow:a", "flow:missing", "flow:b")
            values.toList().map { it.key to it.getValueOrElse(null) } shouldContainExactly
                listOf("flow:a" to "1", "flow:missing" to null, "flow:b" to "2")
            commands.sadd("flow:set", "x", "y", "z") shouldBe 3L
            commands.smembers("flow:set").toList() shouldContainExactlyInAnyOrder listOf("x", "y", "z")
        }

        test("an error reply surfaces as Lettuce's own exception, with Redis's message").config(timeout = timeout) {
            val commands = connection.picketCommands()
            commands.set("error:word", "abc") shouldBe "OK"
            val error = shouldThrowExactly<RedisCommandExecutionException> { commands.incr("error:word") }
            error.message shouldBe "ERR value is not an integer or out of range"
            commands.get("error:word") shouldBe "abc"
        }

        test("the tracker counts the commands that completed and not the one that failed").config(timeout = timeout) {
            val tracker = CommandTracker()
            val commands = connection.picketCommands(tracker)
            tracker.completed shouldBe 0
            commands.set("tracked:word", "abc")
            commands.get("tracked:word")
            tracker.completed shouldBe 2
            shouldThrowExactly<RedisCommandExecutionException> { commands.incr("tracked:word") }
            tracker.completed shouldBe 2
        }

        test("a block whose first command fails has completed nothing").config(timeout = timeout) {
            connection.picketCommands().set("first:word", "abc") shouldBe "OK"
            val tracker = CommandTracker()
            val commands = connection.picketCommands(tracker)
            shouldThrowExactly<RedisCommandExecutionException> { commands.incr("first:word") }
            tracker.completed shouldBe 0
        }

        test("the tracker counts commands that complete concurrently on other threads").config(timeout = timeout) {
            val tracker = CommandTracker()
            val commands = connection.picketCommands(tracker)
            coroutineScope { repeat(200) { launch { commands.incr("concurrent:counter") } } }
            tracker.completed shouldBe 200
            commands.get("concurrent:counter") shouldBe "200"
        }

        test("a Flow-returning command counts as soon as it is issued, since some write").config(timeout = timeout) {
            val tracker = CommandTracker()
            val commands = connection.picketCommands(tracker)
            commands.rpush("untracked:list", "a", "b") shouldBe 2L
            commands.sort("untracked:list", SortArgs.Builder.alpha()).toList() shouldContainExactly
                listOf("a", "b")
            tracker.completed shouldBe 2
        }
    })
