package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.pubsub.ListenerOptions;
import picket.pubsub.PubSub;
import picket.pubsub.PubSubListener;
import picket.pubsub.PubSubMessage;
import picket.pubsub.PubSubEvent;
import picket.pubsub.Topic;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Pub/sub from Java: a listener with a channel handler and a pattern handler, publishing, a subscription added
 * while it runs, and the listener's events. What waits for Redis is called on {@code blocking()} (on this thread)
 * or {@code async()} (a future); the handlers run on the instance's handler threads.
 */
public final class PubSubFromJava {
    private PubSubFromJava() {
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            PubSub pubsub = new PubSub(picket);

            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            // Given at creation, the listener hears the first subscriptions too (registerListener hears what follows).
            ListenerOptions options = new ListenerOptions().onEvent(event -> {
                if (event instanceof PubSubEvent.Subscribed) {
                    System.out.println("event: subscribed to " + ((PubSubEvent.Subscribed) event).getTopic());
                }
            });
            try (PubSubListener listener = pubsub.listen(spec, Map.of(
                    Topic.channel("alerts"), (PubSubMessage m) -> received.add("alerts: " + m.getPayload()),
                    Topic.pattern("metrics.*"), (PubSubMessage m) -> received.add(m.getChannel() + ": " + m.getPayload())),
                    options)) {
                // Subscribing happens in the background; wait for it before publishing.
                listener.blocking().awaitConnected(Duration.ofSeconds(10));
                long receivers = pubsub.blocking().publish(spec, "alerts", "disk full");
                System.out.println("PUBLISH alerts -> " + receivers + " receiver(s)");
                System.out.println("received " + received.poll(5, TimeUnit.SECONDS));
                pubsub.async().publish(spec, "metrics.cpu", "97%").get(5, TimeUnit.SECONDS);
                System.out.println("received " + received.poll(5, TimeUnit.SECONDS));

                listener.setBlockingHandler(Topic.channel("audit"), m -> received.add("audit: " + m.getPayload()));
                listener.async().subscribe("audit").get(5, TimeUnit.SECONDS);
                pubsub.blocking().publish(spec, "audit", "login");
                System.out.println("received " + received.poll(5, TimeUnit.SECONDS));
                System.out.println("subscriptions: " + listener.subscriptions());
            }
        }
    }
}
