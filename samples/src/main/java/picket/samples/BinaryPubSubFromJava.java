package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.pubsub.PubSub;
import picket.pubsub.PubSubListener;
import picket.pubsub.PubSubMessage;
import picket.pubsub.Topic;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Pub/sub of bytes from Java: an object serialized to a {@code byte[]} (here with {@code DataOutputStream}; Protobuf,
 * Avro or Kryo work the same way), published, and read back by a handler from {@link PubSubMessage#payloadBytes()}.
 * Payloads are never decoded on the way: every byte value arrives as it was published, through a channel or a
 * pattern; {@link PubSubMessage#getPayload()} is the same bytes read as UTF-8 text, for text payloads.
 */
public final class BinaryPubSubFromJava {
    private BinaryPubSubFromJava() {
    }

    /** What the sample publishes: an order, serialized by hand to show that any bytes go. */
    record Order(long id, String item, int quantity) {
        byte[] toBytes() {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeLong(id);
                out.writeUTF(item);
                out.writeInt(quantity);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        static Order fromBytes(byte[] payload) {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
                return new Order(in.readLong(), in.readUTF(), in.readInt());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(0).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            PubSub pubsub = new PubSub(picket);

            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            try (PubSubListener listener = pubsub.listen(spec, Map.of(
                    Topic.channel("orders"),
                    (PubSubMessage m) -> received.add("order: " + Order.fromBytes(m.payloadBytes())),
                    Topic.pattern("raw.*"),
                    (PubSubMessage m) -> received.add(m.getChannel() + ": " + m.getPayloadSize() + " bytes, all kept: "
                            + Arrays.equals(m.payloadBytes(), everyByte()))))) {
                listener.blocking().awaitConnected(Duration.ofSeconds(10));

                byte[] order = new Order(42, "espresso beans", 3).toBytes();
                long receivers = pubsub.blocking().publish(spec, "orders", order);
                System.out.println("PUBLISH orders (" + order.length + " bytes) -> " + receivers + " receiver(s)");
                System.out.println("received " + received.poll(5, TimeUnit.SECONDS));

                // Not UTF-8 at all: 0x00 to 0xFF. A String payload would have mangled it.
                pubsub.async().publish(spec, "raw.bytes", everyByte()).get(5, TimeUnit.SECONDS);
                System.out.println("received " + received.poll(5, TimeUnit.SECONDS));
            }
        }
    }

    private static byte[] everyByte() {
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        return all;
    }
}
