package picket.testkit

import io.kotest.core.extensions.MountableExtension
import io.kotest.core.listeners.AfterSpecListener
import io.kotest.core.spec.Spec

/**
 * A Kotest extension that gives a spec its own [Topology], started when the spec installs it and closed after the
 * spec, whatever its outcome:
 * ```kotlin
 * class FailoverSpec : FunSpec({
 *     val topology = install(TopologyExtension()) { replicasPerMaster = 1 }
 *     test("a killed master is replaced") { … }
 * })
 * ```
 * Should the spec never finish, the JVM's shutdown hook still kills its processes.
 *
 * @param base the configuration that the block given to `install` starts from.
 */
public class TopologyExtension(
    private val base: TopologyConfig = TopologyConfig(),
) : MountableExtension<TopologyConfig.Builder, Topology>,
    AfterSpecListener {
    private var topology: Topology? = null

    override fun mount(configure: TopologyConfig.Builder.() -> Unit): Topology {
        check(topology == null) { "a TopologyExtension is installed once per spec" }
        return Topology.start(base.toBuilder().apply(configure).build()).also { topology = it }
    }

    override suspend fun afterSpec(spec: Spec) {
        topology?.close()
        topology = null
    }
}
