package picket.samples;

import picket.core.ConnSpec;
import picket.core.Durability;
import picket.core.Picket;
import picket.core.PicketConfig;
import picket.core.PicketEvent;
import picket.core.SentinelGroup;
import picket.core.SentinelUri;
import picket.testkit.RedisNode;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.io.StringReader;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Configuration as Java applications write it: a sentinel group from its builder, a group and spec from a
 * redis-sentinel:// URI in Lettuce's syntax, and groups and specs from properties, each given to Picket.builder().
 */
public final class ConfigFromJava {
    private ConfigFromJava() {
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build())) {
            String sentinels = topology.getSentinels().stream()
                    .map(RedisNode::getAddress).collect(Collectors.joining(","));
            RedisNode first = topology.getSentinels().get(0);

            SentinelGroup built = SentinelGroup.builder()
                    .sentinel(first.getHost(), first.getPort())
                    .connectTimeout(Duration.ofMillis(500))
                    .build();
            SentinelUri uri = SentinelUri.parse("redis-sentinel://" + sentinels + "/1?timeout=2s#mymaster");
            Properties properties = new Properties();
            properties.load(new StringReader(String.join("\n",
                    "picket.sentinel-groups.props.sentinels=" + sentinels,
                    "picket.specs.reads.group=props",
                    "picket.specs.reads.master-name=mymaster",
                    "picket.specs.reads.database=1",
                    "picket.specs.reads.read-from=prefer-replica")));
            PicketConfig config = PicketConfig.from(properties);

            AtomicInteger resolved = new AtomicInteger();
            try (Picket picket = Picket.builder()
                    .sentinelGroup("built", built)
                    .sentinelGroup("uri", uri.group())
                    .sentinelGroups(config.sentinelGroups())
                    .listener(event -> {
                        if (event instanceof PicketEvent.MasterResolved) {
                            resolved.incrementAndGet();
                        }
                    })
                    .build()) {
                ConnSpec fromBuilder = ConnSpec.sentinel("built", "mymaster").build();
                System.out.println("builder: SET -> " + picket.blocking().withConn(fromBuilder, r -> r.set("k", "v0")));
                // Every replica confirms the write before it returns, so that the replica read below sees it.
                ConnSpec fromUri = uri.spec("uri").withDurability(Durability.allReplicas(Duration.ofSeconds(2)));
                System.out.println("URI: SET -> " + picket.blocking().withConn(fromUri, r -> r.set("k", "v1")));
                String read = picket.blocking().withConn(config.spec("reads"), r -> r.get("k") + " on a " + r.role().get(0));
                System.out.println("properties: GET -> " + read);
                System.out.println("listener saw MasterResolved: " + (resolved.get() > 0));
            }
        }
    }
}
