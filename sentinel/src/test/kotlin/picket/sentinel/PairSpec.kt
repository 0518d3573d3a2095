package picket.sentinel

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThanOrEqual
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import picket.core.Address
import picket.core.AddressMapper
import picket.core.Balancer
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.KeepAlive
import picket.core.MasterNameUnknownException
import picket.core.NoHealthyReplicaException
import picket.core.Picket
import picket.sentinel.testing.asAddress
import picket.sentinel.testing.sentinelGroup
import picket.sentinel.testing.within
import picket.testkit.Inspect
import picket.testkit.RedisNode
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.io.File
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** The read/write pair: master and replica sides, sticky replica choice, disconnect, health and fallback. */
class PairSpec :
    FunSpec({
        val topology = install(TopologyExtension())
        val masterName = TopologyConfig.DEFAULT_MASTER_NAME
        val picket = Picket()
        afterSpec { picket.close() }
        picket.setSentinelGroups("main" to topology.sentinelGroup())
        val spec = ConnSpec(sentinelGroup = "main", masterName = masterName)

        /** Whether every sentinel flags [replica] s_down (true) or none does (false). */
        fun flaggedDown(
            replica: RedisNode,
            down: Boolean,
        ) = topology.sentinels.forEach { sentinel ->
            val flags =
                Inspect
                    .onSentinel(sentinel) { it.replicas(masterName) }
                    .first { it["port"] == "${replica.port}" }
                    .getValue("flags")
            ("s_down" in flags) shouldBe down
        }

        test("writes go to the master, reads to one replica kept until disconnect; 50 cycles use both replicas") {
            val master = topology.awaitMaster(masterName)
            val replicas =
                topology
                    .dataNodes(masterName)
                    .filter { it != master }
                    .map { it.asAddress }
                    .toSet()
            val pair = picket.pair(spec)
            pair.write.withConn { set("pair", "1") } shouldBe "OK"
            pair.master.withConn { role().first() } shouldBe "master"
            Inspect.on(master) { it.get("pair") } shouldBe "1"
            val used = mutableSetOf<Any>()
            repeat(50) {
                within(5) { pair.read.withConn { get("pair") } shouldBe "1" }
                val node = pair.replica.node!!
                replicas shouldContain node
                // The same replica until the pair is disconnected.
                repeat(5) { pair.read.withConn { role().first() } shouldBe "slave" }
                pair.replica.node shouldBe node
                used += node
                pair.disconnect()
                pair.replica.node shouldBe null
            }
            used shouldBe replicas
            shouldThrow<InvalidSpecException> {
                picket.pair(
                    ConnSpec(host = "127.0.0.1", port = 6379),
                )
            }.message shouldBe
                "a read/write pair follows a sentinel group; 127.0.0.1:6379 is direct"
        }

        test(
            "a replica paused with SIGSTOP stops being chosen once Sentinel flags it; with none healthy, the fallback",
        ) {
            val master = topology.awaitMaster(masterName)
            val (paused, other) = topology.dataNodes(masterName).filter { it != master }
            val pair = picket.pair(spec)
            val strict = picket.pair(spec, fallbackToMaster = false)
            topology.pause(paused)
            try {
                within(20) { flaggedDown(paused, true) }
                repeat(20) {
                    pair.read.withConn { role().first() } shouldBe "slave"
                    pair.replica.node shouldBe other.asAddress
                    pair.replica.disconnect()
                }
                topology.pause(other)
                try {
                    within(20) { flaggedDown(other, true) }
                    pair.replica.disconnect()
                    strict.replica.disconnect()
                    pair.read.withConn { role().first() } shouldBe "master"
                    val error = shouldThrow<NoHealthyReplicaException> { strict.read.withConn { get("pair") } }
                    error.rejected.keys shouldBe setOf(paused.asAddress, other.asAddress)
                } finally {
                    topology.resume(other)
                }
            } finally {
                topology.resume(paused)
            }
            within(20) {
                flaggedDown(paused, false)
                flaggedDown(other, false)
            }
            pair.replica.disconnect()
            pair.read.withConn { role().first() } shouldBe "slave"
            pair.replica.node shouldNotBe null
            listOf(paused.asAddress, other.asAddress) shouldContain pair.replica.node
            listOf(master.asAddress) shouldNotContain pair.replica.node
        }

        test("warmUp resolves and connects every spec at once, and fails fast on an unknown master name") {
            val fresh = Picket()
            try {
                fresh.setSentinelGroups("main" to topology.sentinelGroup())
                fresh.warmUp(listOf(spec, spec.preferReplica()))
                val status = fresh.status("main")
                status.masters.getValue(masterName) shouldBe topology.currentMaster(masterName).asAddress
                status.replicas.getValue(masterName).size shouldBe 2
                val error =
                    shouldThrow<MasterNameUnknownException> {
                        fresh.warmUp(listOf(spec, spec.copy(masterName = "nosuchmaster")))
                    }
                error.masterName shouldBe "nosuchmaster"
            } finally {
                fresh.close()
            }
        }

        test("a replica that refuses the connection is passed over for the next attempt, though Sentinel lists it") {
            val master = topology.awaitMaster(masterName)
            val (refusing, other) = topology.dataNodes(masterName).filter { it != master }
            // Only this client is refused (its mapping sends the replica to a port where nothing listens): the
            // sentinels keep listing the replica as healthy, so only Picket's own memory can pass it over.
            val refusal = AddressMapper { if (it == refusing.asAddress) Address("127.0.0.1", 1) else it }
            val client = Picket()
            try {
                client.setSentinelGroups("main" to topology.sentinelGroup().mapAddresses(refusal))
                val prefersRefusing =
                    Balancer { healthy -> healthy.firstOrNull { it == refusing.asAddress } ?: healthy.first() }
                val reads = spec.preferReplica(prefersRefusing, fallbackToMaster = false)
                repeat(3) { client.withConn(reads) { configGet("port")?.get("port") } shouldBe "${other.port}" }
                client
                    .status("main")
                    .replicas
                    .getValue(masterName)
                    .toSet() shouldBe
                    setOf(refusing.asAddress, other.asAddress)
            } finally {
                client.close()
            }
        }

        test("data connections carry the spec's TCP keepalive: TwiceRedis's 1 s / 3 s by default, another, or none")
            .config(enabledIf = { File("/proc/net/tcp").exists() }) {
                val master = topology.awaitMaster(masterName)

                /**
                 * The kernel's timer of the connection named [name] (Linux): `02` keepalive, `01` retransmission (a
                 * request in flight), `00` none; and seconds until it fires.
                 */
                fun timerOf(name: String): Pair<String, Double> {
                    val local =
                        Inspect
                            .on(master) { it.clientList() }
                            .lines()
                            .first { line -> line.split(" ").contains("name=$name") }
                            .split(" ")
                            .first { it.startsWith("addr=") }
                            .substringAfterLast(':')
                            .toInt()
                    // /proc/net/tcp: local and remote address as hex, then "tr:when" (timer 02 is keepalive, when
                    // in clock ticks of 1/100 s).
                    val fields =
                        // Java's sockets are often IPv6 ones with IPv4-mapped addresses: those are in tcp6.
                        listOf("/proc/net/tcp", "/proc/net/tcp6")
                            .map(::File)
                            .filter { it.exists() }
                            .flatMap { it.readLines().drop(1) }
                            .map { it.trim().split(Regex("\\s+")) }
                            .first {
                                it[1].endsWith(":%04X".format(local)) &&
                                    it[2].endsWith(":%04X".format(master.port))
                            }
                    val (timer, ticks) = fields[5].split(":")
                    return timer to ticks.toLong(16) / 100.0
                }

                /**
                 * Seconds until the next keepalive probe of the connection named [name], or null if it has none. A
                 * request in flight (loss detection reads INFO after each block on a master) shows the retransmission
                 * timer instead, for a moment: read again until it is answered, for at most 2 s.
                 */
                suspend fun keepAliveTimer(name: String): Double? {
                    val (timer, seconds) = eventually(2.seconds) { timerOf(name).also { it.first shouldNotBe "01" } }
                    return if (timer == "02") seconds else null
                }
                picket.withConn(spec.copy(clientName = "ka-default")) { ping() }
                picket.withConn(
                    spec.copy(
                        clientName = "ka-30",
                        keepAlive = KeepAlive(Duration.ofSeconds(30), Duration.ofSeconds(5), 3),
                    ),
                ) {
                    ping()
                }
                picket.withConn(spec.copy(clientName = "ka-off", keepAlive = null)) { ping() }
                val default = keepAliveTimer("ka-default")
                val slow = keepAliveTimer("ka-30")
                println("keepalive timers: default $default s, idle 30 s: $slow s, off: ${keepAliveTimer("ka-off")}")
                default.shouldNotBeNull() shouldBeLessThanOrEqual 3.0
                slow.shouldNotBeNull() shouldBeGreaterThan 10.0
                keepAliveTimer("ka-off") shouldBe null
                shouldThrow<InvalidSpecException> { KeepAlive(Duration.ofMillis(500), Duration.ofSeconds(1), 1) }
                    .message shouldBe "keepalive idle is PT0.5S, must be >= 1 s"
            }
    })
