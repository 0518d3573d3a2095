package picket.samples;

import io.lettuce.core.KeyValue;
import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Durability;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.core.TransactionOutcome;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Picket from Java: declare a sentinel group, then run commands on the master and on a replica with the blocking
 * and the CompletableFuture forms of withConn, a transaction, a pipeline and a blocking command, and listen to
 * events.
 */
public final class WithConnFromJava {
    private WithConnFromJava() {
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            // Write parking is on by default; here blocks wait at most 3 s for a failover to be confirmed.
            SentinelGroup group = new SentinelGroup(sentinels).parking(true, Duration.ofSeconds(3));
            picket.setSentinelGroups(Map.of("main", group));
            AutoCloseable listening = picket.registerListener(event -> System.out.println("event: " + event));

            ConnSpec spec = ConnSpec.sentinel("main", "mymaster")
                    .durability(Durability.allReplicas(Duration.ofSeconds(1)))
                    .build();
            String reply = picket.blocking().withConn(spec, redis -> redis.set("greeting", "hello from Java"));
            Long visits = picket.async().withConn(spec, redis -> redis.incr("visits")).get(5, TimeUnit.SECONDS);
            String read = picket.blocking().withConn(spec.preferReplica(), redis -> redis.get("greeting"));

            // Read-your-writes: a replica serves the read only once it has the writes made before it.
            ConnSpec fast = ConnSpec.sentinel("main", "mymaster").build();
            ConnSpec consistentReads = ConnSpec.sentinel("main", "mymaster").preferReplica().readYourWrites().build();
            picket.blocking().withConn(fast, redis -> redis.set("cart", "3 items"));
            String cart = picket.blocking().withConn(consistentReads, redis -> redis.get("cart"));

            // A transaction, a pipeline and a blocking command, each on a dedicated connection of its own.
            TransactionOutcome outcome = picket.blocking().transaction(spec, List.of("visits"), tx -> {
                String seen = tx.getSync().get("visits");
                tx.multi(redis -> redis.set("visits:copy", seen));
            });
            List<Object> replies = picket.blocking().pipeline(fast, List.of(
                    redis -> redis.incr("pipelined"),
                    redis -> redis.incr("pipelined")));
            KeyValue<String, String> job = picket.blocking().withDedicatedConn(fast, redis -> {
                redis.rpush("jobs", "job-1");
                return redis.blpop(1, "jobs");
            });

            System.out.println("SET -> " + reply);
            System.out.println("INCR -> " + visits);
            System.out.println("GET from a replica -> " + read);
            System.out.println("read-your-writes GET -> " + cart);
            System.out.println("transaction -> " + outcome);
            System.out.println("pipeline -> " + replies);
            System.out.println("BLPOP -> " + job.getValue());
            System.out.println("config-epoch -> " + picket.status("main").getEpochs().get("mymaster"));
            listening.close();
        }
    }
}
