package picket.samples;

import picket.core.Address;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.monitor.Monitor;
import picket.monitor.MonitorOptions;
import picket.monitor.MonitorServer;
import picket.monitor.MonitoredNode;
import picket.monitor.RegistryEvent;
import picket.monitor.SentinelNodeWatcher;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The monitor's HTTP service from Java (monitor/README.md, "HTTP and JSON"): a {@code MonitorServer} on a free port,
 * queried with the JDK's {@code HttpClient}, then stopped; and a listener of the node registry, which hears the nodes
 * Sentinel reports and a node added and removed by hand. Run it with the sentinels' addresses:
 * `MonitorServerFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is mymaster).
 */
public final class MonitorServerFromJava {
    private MonitorServerFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            MonitorOptions options = MonitorOptions.builder()
                    .intervals(Duration.ofMillis(500), Duration.ofSeconds(3))
                    .build();
            Set<String> added = ConcurrentHashMap.newKeySet();
            Set<String> removed = ConcurrentHashMap.newKeySet();
            try (Monitor monitor = new Monitor(picket, List.of(new SentinelNodeWatcher(picket)), options);
                 AutoCloseable listening = monitor.getRegistry().registerListener(event -> {
                     // On the thread that changed the registry: fast, and never throwing.
                     if (event instanceof RegistryEvent.Added) {
                         added.add(event.getNode().getId());
                     } else if (event instanceof RegistryEvent.Removed) {
                         removed.add(event.getNode().getId());
                     }
                 })) {
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (monitor.states().stream().filter(s -> s.getInfo() != null).count() < sentinels.size() + 2
                        && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                System.out.println("registry listener: " + added.size() + " nodes added by Sentinel's watcher");
                monitor.getRegistry().add(new MonitoredNode(new Address("127.0.0.1", 1)));
                monitor.getRegistry().remove("127.0.0.1:1");
                System.out.println("registry listener: 127.0.0.1:1 added " + added.contains("127.0.0.1:1")
                        + ", removed " + removed.contains("127.0.0.1:1"));

                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                URI base;
                try (MonitorServer server = new MonitorServer(monitor, new InetSocketAddress("127.0.0.1", 0)).start()) {
                    base = server.getUri();
                    HttpResponse<String> masters = get(http, base.resolve("/info?role=master&key=role"));
                    System.out.println("GET /info?role=master&key=role -> " + masters.statusCode() + ", "
                            + masters.body().replaceAll("\\s", "").contains("\"info\":{\"role\":\"master\"}"));
                    HttpResponse<String> unknown = get(http, base.resolve("/info?node=10.9.9.9:1"));
                    System.out.println("GET /info?node=10.9.9.9:1 -> " + unknown.statusCode() + ", "
                            + unknown.body().contains("UnknownNodeException"));
                }
                try {
                    // A new client: one with a pooled connection to the stopped server could fail otherwise.
                    get(HttpClient.newHttpClient(), base.resolve("/nodes"));
                } catch (ConnectException e) {
                    System.out.println("after stop: ConnectException");
                }
            }
        }
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
