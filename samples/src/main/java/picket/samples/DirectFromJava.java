package picket.samples;

import picket.core.ConnSpec;
import picket.core.InvalidSpecException;
import picket.core.Picket;
import picket.core.RedisUri;

import java.util.concurrent.TimeUnit;

/**
 * core/README.md's opening: Picket on one Redis node, without Sentinel (direct mode), from a builder and from a
 * redis:// URI, blocking and as a future; and the typed error of a malformed spec. Run it with a node's host and
 * port: `DirectFromJava 127.0.0.1 6379`.
 */
public final class DirectFromJava {
    private DirectFromJava() {
    }

    public static void main(String[] args) throws Exception {
        String host = args.length > 0 ? args[0] : "127.0.0.1";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 6379;
        // README: start
        try (Picket picket = new Picket()) {
            ConnSpec node = ConnSpec.direct(host, port).build();                    // this node, no Sentinel
            ConnSpec db1 = RedisUri.direct("redis://" + host + ":" + port + "/1");  // the same node, database 1
            String set = picket.blocking().withConn(node, redis -> redis.set("greeting", "hello"));
            String got = picket.async().withConn(node, redis -> redis.get("greeting")).get(5, TimeUnit.SECONDS);
            Long inDb1 = picket.blocking().withConn(db1, redis -> redis.exists("greeting"));
            System.out.println("SET -> " + set + ", GET -> " + got + ", in database 1 -> " + inDb1);
        }
        // README: end
        try {
            ConnSpec.direct(host, 70000).build();
        } catch (InvalidSpecException e) {
            System.out.println("InvalidSpecException: " + e.getMessage());
        }
    }
}
