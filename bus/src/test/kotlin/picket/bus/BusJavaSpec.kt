package picket.bus

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.extensions.install
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runInterruptible
import kotlinx.coroutines.withTimeout
import picket.bus.javaapi.MathApi
import picket.bus.javaapi.MathImpl
import picket.bus.javaapi.Overloaded
import picket.bus.javaapi.Point
import picket.core.ConnSpec
import picket.core.InvalidSpecException
import picket.core.Picket
import picket.core.PicketInterruptedException
import picket.sentinel.testing.sentinelGroup
import picket.testkit.TopologyConfig
import picket.testkit.TopologyExtension
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/**
 * The bus from Java: an interface implementation (`javaapi/MathApi.java`, typed and generic arguments and results)
 * registered and served through the blocking and async views, called through a proxy and the views from another
 * Picket; remote errors typed; interrupted blocking calls (own small topology: 1 master, 1 sentinel).
 */
class BusJavaSpec :
    FunSpec({
        val topology =
            install(TopologyExtension()) {
                replicasPerMaster = 0
                sentinels = 1
                quorum = 1
            }
        val spec = ConnSpec(sentinelGroup = "main", masterName = TopologyConfig.DEFAULT_MASTER_NAME)

        fun newPicket(): Picket = Picket().also { it.setSentinelGroups("main" to topology.sentinelGroup()) }

        val servicePicket = newPicket()
        val callerPicket = newPicket()
        afterSpec {
            servicePicket.close()
            callerPicket.close()
        }

        /** Runs [block] as a Java caller would, on a thread of its own, interrupted if it outlives the deadline. */
        suspend fun <T> javaCaller(block: () -> T): T =
            withTimeout(30.seconds) { runInterruptible(Dispatchers.IO, block) }

        val names =
            listOf(
                "MathApi.add",
                "MathApi.divide",
                "MathApi.line",
                "MathApi.mid",
                "MathApi.range",
                "MathApi.sleep",
                "MathApi.square",
                "MathApi.thread",
            )

        test("an interface implementation registered blocking is called through a proxy, results typed and generic") {
            javaCaller {
                Bus(servicePicket, "java_blocking", spec).use { service ->
                    Bus(callerPicket, "java_blocking", spec).use { caller ->
                        service.blocking().register(MathApi::class.java, MathImpl()) shouldBe names
                        val server = service.blocking().serve("MathApi.*", 2, false)
                        caller
                            .blocking()
                            .method("MathApi.mid")!!
                            .params
                            .map { it.name } shouldBe listOf("a", "b")

                        val math = caller.proxy(MathApi::class.java)
                        math.add(1, 2) shouldBe 3
                        math.range(4) shouldBe listOf(0, 1, 2, 3)
                        math.mid(Point(0, 0), Point(4, 6)) shouldBe Point(2, 3)
                        math.line(Point(1, 1), 2) shouldBe listOf(Point(1, 1), Point(2, 2))
                        math.square(7).get(10, TimeUnit.SECONDS) shouldBe 49
                        // The implementation is the user's code the bus calls: on the Picket's handlers (by default a
                        // view of kotlinx's IO threads), never on the caller's thread.
                        math.thread() shouldStartWith "DefaultDispatcher-worker-"

                        caller.blocking().call("MathApi.add", 20, 22) shouldBe 42
                        caller.blocking().call(
                            Point::class.java,
                            "MathApi.mid",
                            listOf(Point(2, 2), Point(4, 4)),
                        ) shouldBe
                            Point(3, 3)
                        caller.run("MathApi.add", listOf(4, 5)).blocking().await(Int::class.javaObjectType) shouldBe 9

                        val ended = server.async().join()
                        server.blocking().stop(Duration.ofSeconds(5)) shouldBe true
                        ended.get(5, TimeUnit.SECONDS) shouldBe null
                    }
                }
            }
        }

        test("the async view registers, serves and calls; a BusCall's and a server's futures complete") {
            javaCaller {
                Bus(servicePicket, "java_async", spec).use { service ->
                    Bus(callerPicket, "java_async", spec).use { caller ->
                        service.async().register(MathApi::class.java, MathImpl()).get(10, TimeUnit.SECONDS) shouldBe
                            names
                        val server = service.async().serve("MathApi.*").get(10, TimeUnit.SECONDS)
                        caller
                            .async()
                            .methods()
                            .get(10, TimeUnit.SECONDS)
                            .map { it.name } shouldContainAll names
                        caller
                            .async()
                            .call(
                                Int::class.javaObjectType,
                                "MathApi.add",
                                listOf(2, 3),
                            ).get(10, TimeUnit.SECONDS) shouldBe
                            5
                        // Without a type, plain values: the points as maps.
                        caller.async().call("MathApi.line", listOf(Point(0, 0), 1)).get(10, TimeUnit.SECONDS) shouldBe
                            listOf(mapOf("x" to 0, "y" to 0))
                        caller
                            .run("MathApi.range", listOf(2))
                            .async()
                            .await()
                            .get(10, TimeUnit.SECONDS) shouldBe
                            listOf(0, 1)
                        server.async().stop(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS) shouldBe true
                        server.isRunning shouldBe false
                    }
                }
            }
        }

        test("a method that throws gives the caller RemoteException with the remote type and message") {
            javaCaller {
                Bus(servicePicket, "java_errors", spec).use { service ->
                    Bus(callerPicket, "java_errors", spec).use { caller ->
                        service.blocking().register(MathApi::class.java, MathImpl())
                        service.blocking().serve("MathApi.*")
                        val math = caller.proxy(MathApi::class.java)
                        val error = shouldThrow<RemoteException> { math.divide(1, 0) }
                        error.remoteType shouldBe "java.lang.ArithmeticException"
                        error.remoteMessage shouldBe "cannot divide 1 by zero"
                        error.message shouldBe
                            "bus method 'MathApi.divide' failed on its worker: java.lang.ArithmeticException: " +
                            "cannot divide 1 by zero"
                        val failed = caller.async().call("MathApi.divide", listOf(2, 0))
                        val cause = shouldThrow<ExecutionException> { failed.get(10, TimeUnit.SECONDS) }.cause
                        cause.shouldBeInstanceOf<RemoteException>()
                        cause.remoteMessage shouldBe "cannot divide 2 by zero"
                    }
                }
            }
        }

        test("bad interfaces are refused with typed errors naming what is wrong, and nothing is stored") {
            javaCaller {
                Bus(servicePicket, "java_refused", spec).use { service ->
                    shouldThrow<InvalidRegistrationException> {
                        service.blocking().register(
                            Overloaded::class.java,
                            object : Overloaded {
                                override fun f(a: Int): Int = a

                                override fun f(
                                    a: Int,
                                    b: Int,
                                ): Int = a + b
                            },
                        )
                    }.message shouldBe
                        "bus method 'Overloaded.f' cannot be registered: picket.bus.javaapi.Overloaded has 2 methods " +
                        "that would share this name (overloads: f(int), f(int, int)): give each its own @BusName"
                    shouldThrow<InvalidRegistrationException> {
                        service.blocking().register(MathImpl::class.java, MathImpl())
                    }.message shouldBe
                        "bus method 'picket.bus.javaapi.MathImpl' cannot be registered: picket.bus.javaapi.MathImpl " +
                        "is not an interface"
                    service.blocking().methods() shouldBe emptyList()
                    shouldThrow<InvalidSpecException> { service.proxy(MathImpl::class.java) }.message shouldBe
                        "a bus proxy needs an interface, picket.bus.javaapi.MathImpl is not one"
                }
            }
        }

        test("an interrupted blocking call throws PicketInterruptedException and keeps the thread's interrupt flag") {
            javaCaller {
                Bus(servicePicket, "java_interrupt", spec).use { service ->
                    Bus(callerPicket, "java_interrupt", spec).use { caller ->
                        val impl = MathImpl()
                        service.blocking().register(MathApi::class.java, impl)
                        val server = service.blocking().serve("MathApi.*", 2, false)
                        val math = caller.proxy(MathApi::class.java)

                        // A proxy call in flight: the worker runs it, the caller is interrupted.
                        val outcome = CompletableFuture<Pair<Throwable?, Boolean>>()
                        val waiting =
                            thread(name = "java-bus-caller") {
                                val error = runCatching { math.sleep(3_000) }.exceptionOrNull()
                                outcome.complete(error to Thread.currentThread().isInterrupted)
                            }
                        impl.entered.await(10, TimeUnit.SECONDS) shouldBe true
                        waiting.interrupt()
                        val (error, flag) = outcome.get(5, TimeUnit.SECONDS)
                        error.shouldBeInstanceOf<PicketInterruptedException>()
                        error.message shouldBe "interrupted while waiting for bus call of 'MathApi.sleep'"
                        flag shouldBe true

                        // A view's call on a thread interrupted before it starts: the same, at once.
                        val early = CompletableFuture<Pair<Throwable?, Boolean>>()
                        thread(name = "java-bus-caller-early") {
                            Thread.currentThread().interrupt()
                            val e = runCatching { caller.blocking().call("MathApi.add", 1, 2) }.exceptionOrNull()
                            early.complete(e to Thread.currentThread().isInterrupted)
                        }
                        val (earlyError, earlyFlag) = early.get(5, TimeUnit.SECONDS)
                        earlyError.shouldBeInstanceOf<PicketInterruptedException>()
                        earlyError.message shouldBe "interrupted while waiting for bus call of 'MathApi.add'"
                        earlyFlag shouldBe true

                        // The caller's bus goes on.
                        math.add(2, 2) shouldBe 4
                        server.blocking().stop(Duration.ofSeconds(5))
                    }
                }
            }
        }
    })
