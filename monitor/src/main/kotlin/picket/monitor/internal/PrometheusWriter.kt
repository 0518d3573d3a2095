package picket.monitor.internal

import io.prometheus.metrics.config.EscapingScheme
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter
import io.prometheus.metrics.model.snapshots.GaugeSnapshot
import io.prometheus.metrics.model.snapshots.Labels
import io.prometheus.metrics.model.snapshots.MetricSnapshots
import picket.monitor.NodeState
import picket.monitor.Role
import java.io.OutputStream

/**
 * The main figures of every node as Prometheus gauges, built as snapshots of Prometheus' own Java client and written
 * by its text-format writer (format 0.0.4), at each scrape from the cached INFO: no node is asked.
 */
internal object PrometheusWriter {
    const val CONTENT_TYPE: String = PrometheusTextFormatWriter.CONTENT_TYPE
    private val writer = PrometheusTextFormatWriter.create()

    private class Gauge(
        val name: String,
        val help: String,
        val value: (NodeState, List<NodeState>) -> Double?,
    )

    private val gauges =
        listOf(
            Gauge("picket_redis_up", "1 if the node's last poll succeeded, 0 if it failed.") { s, _ ->
                if (s.lastError == null && s.info != null) 1.0 else 0.0
            },
            Gauge("picket_redis_down", "1 if the node is declared down (failureGrace failed polls in a row).") { s, _ ->
                if (s.down) 1.0 else 0.0
            },
            Gauge("picket_redis_info_age_seconds", "Age of the node's latest good INFO.") { s, _ ->
                s.infoAge?.let { it.toNanos() / NANOS_PER_SECOND }
            },
            Gauge("picket_redis_poll_interval_seconds", "The node's current polling interval.") { s, _ ->
                s.interval.toNanos() / NANOS_PER_SECOND
            },
            Gauge("picket_redis_memory_used_bytes", "used_memory.") { s, _ -> s.info?.double("used_memory") },
            Gauge(
                "picket_redis_connected_clients",
                "connected_clients.",
            ) { s, _ -> s.info?.double("connected_clients") },
            Gauge("picket_redis_instantaneous_ops_per_second", "instantaneous_ops_per_sec.") { s, _ ->
                s.info?.double("instantaneous_ops_per_sec")
            },
            Gauge(
                "picket_redis_replication_offset_bytes",
                "master_repl_offset: the replication stream's offset.",
            ) { s, _ ->
                s.info?.double("master_repl_offset")
            },
            Gauge(
                "picket_redis_replication_lag_bytes",
                "Replicas: their master's master_repl_offset minus their slave_repl_offset, from the two cached INFOs.",
                ::lagBytes,
            ),
            Gauge("picket_redis_master_last_io_seconds", "Replicas: master_last_io_seconds_ago.") { s, _ ->
                s.info?.double("master_last_io_seconds_ago")
            },
        )

    fun write(
        states: List<NodeState>,
        out: OutputStream,
    ) {
        val snapshots =
            gauges.map { gauge ->
                val builder = GaugeSnapshot.builder().name(gauge.name).help(gauge.help)
                states.forEach { state ->
                    gauge.value(state, states)?.let { value ->
                        builder.dataPoint(
                            GaugeSnapshot.GaugeDataPointSnapshot
                                .builder()
                                .labels(labels(state))
                                .value(value)
                                .build(),
                        )
                    }
                }
                builder.build()
            } + reportedRole(states)
        writer.write(out, MetricSnapshots(snapshots), EscapingScheme.UNDERSCORE_ESCAPING)
    }

    /** The role each node states in its own INFO (`master`, `slave`, `sentinel`), as a 1-valued gauge. */
    private fun reportedRole(states: List<NodeState>): GaugeSnapshot {
        val builder =
            GaugeSnapshot
                .builder()
                .name("picket_redis_reported_role")
                .help("1 for the role the node states in its own INFO (label reported_role).")
        states.forEach { state ->
            state.info?.role?.let { role ->
                builder.dataPoint(
                    GaugeSnapshot.GaugeDataPointSnapshot
                        .builder()
                        .labels(labels(state).add("reported_role", role))
                        .value(1.0)
                        .build(),
                )
            }
        }
        return builder.build()
    }

    private fun lagBytes(
        state: NodeState,
        all: List<NodeState>,
    ): Double? {
        if (state.node.role != Role.REPLICA) return null
        val applied = state.info?.long("slave_repl_offset") ?: return null
        val master =
            all.firstOrNull {
                it.node.role == Role.MASTER && it.node.masterName == state.node.masterName &&
                    it.node.group == state.node.group
            } ?: return null
        val offset = master.info?.long("master_repl_offset") ?: return null
        return (offset - applied).coerceAtLeast(0).toDouble()
    }

    private fun labels(state: NodeState): Labels =
        Labels.of(
            "node",
            state.id,
            "role",
            state.node.role.name
                .lowercase(),
            "master_name",
            state.node.masterName.orEmpty(),
            "group",
            state.node.group.orEmpty(),
        )

    private const val NANOS_PER_SECOND = 1e9
}
