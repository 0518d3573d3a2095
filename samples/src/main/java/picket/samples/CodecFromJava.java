package picket.samples;

import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.SentinelGroup;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * withConn in another codec from Java (core/README.md, "Commands"): {@code ByteArrayCodec.INSTANCE} for {@code byte[]}
 * keys and values, and a codec of the application's own (a record stored as 8 bytes), blocking and as a future. Run it
 * with the sentinels' addresses: `CodecFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is mymaster).
 */
public final class CodecFromJava {
    private CodecFromJava() {
    }

    /** A value of the application's own, stored by {@link PointCodec}. */
    public record Point(int x, int y) {
    }

    /** Keys as UTF-8 text, values as a {@link Point}'s two ints, big-endian: 8 bytes. */
    public static final class PointCodec implements RedisCodec<String, Point> {
        @Override
        public String decodeKey(ByteBuffer bytes) {
            return StandardCharsets.UTF_8.decode(bytes).toString();
        }

        @Override
        public Point decodeValue(ByteBuffer bytes) {
            return new Point(bytes.getInt(), bytes.getInt());
        }

        @Override
        public ByteBuffer encodeKey(String key) {
            return StandardCharsets.UTF_8.encode(key);
        }

        @Override
        public ByteBuffer encodeValue(Point point) {
            return ByteBuffer.allocate(8).putInt(point.x()).putInt(point.y()).flip();
        }
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();

            // Every byte value, 0 to 255, as the value; a key that is not valid UTF-8.
            byte[] all = new byte[256];
            for (int i = 0; i < all.length; i++) {
                all[i] = (byte) i;
            }
            byte[] key = {'b', 'y', 't', 'e', 's', ':', (byte) 0xff, 0};
            byte[] read = picket.blocking().withConn(spec, ByteArrayCodec.INSTANCE, redis -> {
                redis.set(key, all);
                return redis.get(key);
            });
            byte[] viaFuture = picket.async().withConn(spec, ByteArrayCodec.INSTANCE, redis -> redis.get(key))
                    .get(5, TimeUnit.SECONDS);
            // What the server holds: exactly the 256 bytes, nothing re-encoded.
            Long length = picket.blocking().withConn(spec, ByteArrayCodec.INSTANCE, redis -> redis.strlen(key));
            System.out.println("bytes: blocking round trip exact: " + Arrays.equals(all, read)
                    + ", future round trip exact: " + Arrays.equals(all, viaFuture) + ", STRLEN " + length);

            // A codec of the application's own: the record in, the record out.
            PointCodec points = new PointCodec();
            Point stored = new Point(-7, 1 << 20);
            Point back = picket.blocking().withConn(spec, points, redis -> {
                redis.set("point:home", stored);
                return redis.get("point:home");
            });
            Point backViaFuture = picket.async().withConn(spec, points, redis -> redis.get("point:home"))
                    .get(5, TimeUnit.SECONDS);
            Long pointLength = picket.blocking().withConn(spec, redis -> redis.strlen("point:home"));
            System.out.println("record: " + back + ", equal: " + stored.equals(back) + ", future equal: "
                    + stored.equals(backViaFuture) + ", stored in " + pointLength + " bytes");
        }
    }
}
