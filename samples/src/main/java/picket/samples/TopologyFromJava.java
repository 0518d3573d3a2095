package picket.samples;

import picket.testkit.RedisNode;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;

/**
 * The test kit from Java: start a topology with the builder, kill its master, and wait until the sentinels agree
 * on the promoted replica. Applications use the same calls to test their own failover handling.
 */
public final class TopologyFromJava {
    private TopologyFromJava() {
    }

    public static void main(String[] args) {
        TopologyConfig config = TopologyConfig.builder()
                .replicasPerMaster(1)
                .sentinels(3)
                .quorum(2)
                .downAfter(Duration.ofSeconds(2))
                .build();
        try (Topology topology = Topology.start(config)) {
            RedisNode master = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME);
            System.out.println("master: " + master.getName() + " at " + master.getAddress());
            topology.kill(master);
            RedisNode promoted = topology.awaitMaster(TopologyConfig.DEFAULT_MASTER_NAME, master);
            System.out.println("after kill -9 the sentinels agree on " + promoted.getName() + " at " + promoted.getAddress());
        }
    }
}
