package picket.samples;

import picket.core.ConnSpec;
import picket.core.Picket;

/**
 * The README's five-minute start, as an application writes it: no test topology, only the address of its
 * sentinels. Run it with a `redis-sentinel://` URI: `QuickStart redis-sentinel://10.0.0.1:26379,10.0.0.2:26379#mymaster`.
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static void main(String[] args) {
        String uri = args.length > 0 ? args[0] : "redis-sentinel://localhost:26379#mymaster";
        // README: start
        try (Picket picket = new Picket()) {
            ConnSpec spec = picket.declare("main", uri);  // the sentinels and the master name, from one URI
            picket.blocking().withConn(spec, redis -> redis.set("greeting", "hello"));
            ConnSpec replica = spec.preferReplica().readYourWrites();  // a replica that has the write above
            String greeting = picket.blocking().withConn(replica, redis -> redis.get("greeting") + " from a "
                    + redis.role().get(0));
            System.out.println(greeting);
        }
        // README: end
    }
}
