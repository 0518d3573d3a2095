package picket.samples;

import picket.core.Balancers;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.PicketEvent;
import picket.core.SentinelGroup;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * sentinel/README.md's opening, as an application writes it: a sentinel group from its builder and another from a
 * redis-sentinel:// URI, a write on the master, a replica read chosen by a balancer, a future, and a listener.
 * Run it with two sentinel addresses and a master name: `SentinelFromJava 10.0.0.1:26379 10.0.0.2:26379 mymaster`.
 */
public final class SentinelFromJava {
    private SentinelFromJava() {
    }

    public static void main(String[] args) throws Exception {
        String first = args.length > 0 ? args[0] : "localhost:26379";
        String second = args.length > 1 ? args[1] : "localhost:26380";
        String masterName = args.length > 2 ? args[2] : "mymaster";
        String uri = "redis-sentinel://" + first + "," + second + "#" + masterName;
        // README: start
        SentinelGroup group = SentinelGroup.builder().sentinel(first).sentinel(second).build();  // "10.0.0.1:26379"
        try (Picket picket = Picket.builder()
                .sentinelGroup("group1", group)
                .listener(event -> {                             // every event, from the first; fast, non-throwing
                    if (event instanceof PicketEvent.MasterResolved) {
                        System.out.println("resolved " + ((PicketEvent.MasterResolved) event).getMasterName());
                    }
                })
                .build()) {
            ConnSpec orders = ConnSpec.sentinel("group1", masterName).build();
            ConnSpec fromUri = picket.declare("group2", uri);    // the same sentinels, as a redis-sentinel:// URI

            Long n = picket.blocking().withConn(orders, redis -> redis.incr("orders:count"));      // on the master
            ConnSpec replica = orders.preferReplica(Balancers.roundRobin()).readYourWrites();      // a healthy replica
            String v = picket.blocking().withConn(replica, redis -> redis.get("orders:count"));
            CompletableFuture<String> pong = picket.async().withConn(fromUri, redis -> redis.ping());
            System.out.println("INCR -> " + n + ", GET from a replica -> " + v + ", PING -> "
                    + pong.get(5, TimeUnit.SECONDS));
        }
        // README: end
    }
}
