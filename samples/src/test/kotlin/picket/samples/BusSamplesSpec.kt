package picket.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import picket.core.Address
import picket.core.ConnSpec
import picket.core.Picket
import picket.core.SentinelGroup
import picket.testkit.Topology
import picket.testkit.TopologyConfig

/** The RPC bus's Java sample runs here, so it never rots. */
class BusSamplesSpec :
    FunSpec({
        test(
            "the Java bus sample registers an interface and functions, calls blocking, async and by proxies, cleans up",
        ) {
            val lines = captureOutput { BusFromJava.main(emptyArray()) }
            lines shouldContainAll
                listOf(
                    "registered [Geometry.corners, Geometry.mid]",
                    "discovered Geometry.mid [a, b]",
                    "discovered Geometry.corners [origin, size]",
                    "proxy mid -> Point[x=2, y=1]",
                    "proxy corners -> [Point[x=1, y=1], Point[x=3, y=1], Point[x=3, y=3], Point[x=1, y=3]]",
                    "discovered math_divide [a, b]",
                    "discovered math_greet [name, times]",
                    "greet -> hello bus hello bus",
                    "server joined: null",
                    "discovered math_sum [a, b]",
                    "sum -> 5",
                    "divide by default -> 7",
                    "divide async -> 3",
                    "remote error: java.lang.ArithmeticException: cannot divide by zero",
                    "proxy sum -> 42",
                    "proxy future failed: RemoteException",
                    "server drained: true",
                    "cleanup deleted keys: true",
                )
        }

        test("the demo's bus part: two services discovered, called through a proxy, cached, cleared") {
            val lines =
                captureOutput {
                    Topology.start(TopologyConfig(replicasPerMaster = 1)).use { topology ->
                        Picket().use { p ->
                            val sentinels = topology.sentinels.map { Address(it.host, it.port) }
                            p.setSentinelGroups("demo" to SentinelGroup(sentinels))
                            val spec = ConnSpec(sentinelGroup = "demo", masterName = "mymaster")
                            BusDemo(p, spec).use { demo ->
                                // The demo runs after() past its failover; here right after, to keep the suite short.
                                demo.before()
                                demo.after()
                            }
                        }
                    }
                }
            lines shouldContainAll
                listOf(
                    "bus: discovered math_now, math_sum, random_password, random_uuid",
                    "bus: random_uuid -> 32 hex digits; random_password(20) -> 20 letters",
                    "bus: math_sum(1, 2) -> 3; math_now(1) twice the same: true, math_now(2) another: true",
                    "bus: after clearCache(1), math_now(1) is new: true",
                    "bus: after the failover, math_sum(40, 2) -> 42, random_uuid -> 32 hex digits",
                )
        }
    })
