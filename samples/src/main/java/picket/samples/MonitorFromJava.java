package picket.samples;

import picket.core.Address;
import picket.monitor.InfoEntry;
import picket.monitor.InfoQuery;
import picket.monitor.InfoResult;
import picket.monitor.Monitor;
import picket.monitor.MonitorOptions;
import picket.monitor.MonitoredNode;
import picket.monitor.NodeWatcher;
import picket.monitor.RegistryEvent;
import picket.monitor.Role;
import picket.monitor.SentinelNodeWatcher;
import picket.monitor.UnknownNodeException;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.testkit.RedisNode;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * The monitor from Java: the Sentinel watcher, a watcher of the application's own (its supplier runs on the
 * instance's handler threads), queries, and a forced refresh on {@code blocking()} (also on {@code async()}).
 */
public final class MonitorFromJava {
    private MonitorFromJava() {
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            RedisNode master = topology.awaitMaster("mymaster");
            MonitorOptions options = MonitorOptions.builder()
                    .intervals(Duration.ofMillis(500), Duration.ofSeconds(3))
                    .timeouts(Duration.ofSeconds(1), Duration.ofSeconds(2))
                    .build();
            // A watcher of the application's own (a service registry, say), polled every second, beside Sentinel's.
            NodeWatcher fromRegistry = NodeWatcher.polling(Duration.ofSeconds(1),
                    () -> List.of(new MonitoredNode(new Address(master.getHost(), master.getPort()))));
            List<String> added = new CopyOnWriteArrayList<>();
            try (Monitor monitor = new Monitor(picket, List.of(new SentinelNodeWatcher(picket), fromRegistry), options);
                 AutoCloseable ignored = monitor.getRegistry().registerListener(event -> {
                     if (event instanceof RegistryEvent.Added) {
                         added.add(event.getNode().getId());
                     }
                 })) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (monitor.states().stream().filter(s -> s.getInfo() != null).count() < topology.getNodes().size()
                        && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                System.out.println("nodes added: " + added.size());

                InfoResult masters = monitor.query(InfoQuery.builder().role(Role.MASTER).keys("role", "used_memory").build());
                InfoEntry entry = masters.getEntries().get(0);
                System.out.println("master " + entry.getMeta().getNodeId() + " says role=" + entry.getFields().get("role"));

                InfoResult fresh = monitor.blocking().refresh(InfoQuery.builder().nodes(master.getAddress()).prefixes("cmdstat_info").build());
                System.out.println("refreshed: info age below 1 s: "
                        + (fresh.get(master.getAddress()).getMeta().getInfoAge().compareTo(Duration.ofSeconds(1)) < 0));
                try {
                    monitor.query(InfoQuery.builder().nodes("10.9.9.9:1").build());
                } catch (UnknownNodeException e) {
                    System.out.println("unknown node: " + e.getMessage());
                }
            }
        }
    }
}
