package picket.sentinel

import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.lettuce.core.LMoveArgs
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.internal.closeConnections
import picket.core.internal.openPubSub
import picket.sentinel.testing.capturingStderr
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension

/**
 * Picket closes each connection once, in order, so Lettuce never warns "Connection is already closed": not when a
 * block fails on a connection closed under it (as a switch closes the old master's), not when an instance closes.
 */
class QuietCloseSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)

        test("instances opened and closed with shared, replica, dedicated and pub/sub connections warn of nothing") {
            val (connections, lines) =
                capturingStderr {
                    (1..5).sumOf { i ->
                        Picket().use { picket ->
                            picket.setSentinelGroups("main" to topology.sentinelGroup())
                            picket.withConn(spec) { set("quiet", "$i") }
                            picket.withConn(spec.preferReplica()) { get("quiet") }
                            picket.withDedicatedConn(spec) {
                                blmove("quiet:empty", "quiet:dst", LMoveArgs.Builder.rightLeft(), 0.05)
                            }
                            picket.pipeline(spec) { add { it.incr("quiet:n") } }
                            picket.blocking().withConn(spec) { it.get("quiet") } shouldBe "$i"
                            val kept = picket.openPubSub(spec) {}
                            kept.connection.async().subscribe("quiet")
                            // Closed by its user, who waits for it: a close still in flight when the instance closes
                            // is closed again by Lettuce's own client shutdown, which warns (Lettuce's bookkeeping).
                            picket
                                .openPubSub(spec) {}
                                .connection
                                .closeAsync()
                                .get()
                            within(10) {
                                picket
                                    .status("main")
                                    .subscriptions.values
                                    .all { it } shouldBe true
                            }
                            3 + picket.status("main").subscriptions.size + 2
                        }
                    }
                }
            connections shouldBeGreaterThan 20
            lines.filter { it.contains("WARN") || it.contains("already closed") }.shouldBeEmpty()
        }

        test("blocks failing on connections closed under them (as at a switch) warn of nothing") {
            Picket().use { picket ->
                picket.setSentinelGroups("main" to topology.sentinelGroup())
                val scoped = spec.copy(connectionScope = "quiet")
                val (_, lines) =
                    capturingStderr {
                        repeat(3) { round ->
                            coroutineScope {
                                val shared =
                                    async { runCatching { picket.withConn(scoped) { blpop(5.0, "quiet:none") } } }
                                val dedicated =
                                    async {
                                        runCatching {
                                            picket.withDedicatedConn(scoped) { blpop(5.0, "quiet:none") }
                                        }
                                    }
                                // Both blocked on their connections, then closed under them.
                                within(10) {
                                    val clients = picket.withConn(spec) { clientList() }!!
                                    clients.lines().count { "cmd=blpop" in it } shouldBe 2
                                }
                                picket.closeConnections("quiet") shouldBe 1
                                // They fail (or, retried, time out): either way after their connections closed.
                                shared.await()
                                dedicated.await()
                            }
                            picket.withConn(scoped) { incr("quiet:round") } shouldBe (round + 1).toLong()
                        }
                    }
                lines.filter { it.contains("WARN") || it.contains("already closed") }.shouldBeEmpty()
            }
        }
    })
