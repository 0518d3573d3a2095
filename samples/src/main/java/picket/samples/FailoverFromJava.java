package picket.samples;

import picket.bus.Bus;
import picket.bus.BusServer;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.lock.Locks;
import picket.mq.HandlerResult;
import picket.mq.MessageQueues;
import picket.mq.Worker;
import picket.mq.WorkerOptions;
import picket.pubsub.PubSub;
import picket.pubsub.PubSubListener;
import picket.pubsub.PubSubMessage;
import picket.pubsub.Topic;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Every module from Java through one real failover, as an application writes it: only a {@code redis-sentinel://}
 * URI. Before and after {@code failover} (the caller's: e.g. {@code SENTINEL FAILOVER}) it writes with withConn,
 * publishes to a pub/sub listener, enqueues for a Java worker, takes a lock and calls a bus method; each follows the
 * new master without the application doing anything.
 */
public final class FailoverFromJava {
    private FailoverFromJava() {
    }

    /** What the bus serves: registered whole, as {@code Adder.add}. */
    public interface Adder {
        int add(int a, int b);
    }

    public static void run(String uri, Runnable failover) throws Exception {
        try (Picket picket = new Picket()) {
            ConnSpec spec = picket.declare("main", uri);
            BlockingQueue<String> news = new LinkedBlockingQueue<>();
            BlockingQueue<String> handled = new LinkedBlockingQueue<>();
            MessageQueues<String> queues = MessageQueues.strings(picket, spec);
            PubSub pubsub = new PubSub(picket);
            try (PubSubListener listener = pubsub.listen(spec,
                         Map.of(Topic.channel("java:news"), (PubSubMessage m) -> news.add(m.getPayload())));
                 Locks locks = new Locks(picket, spec);
                 Bus service = new Bus(picket, "java_failover", spec);
                 Bus caller = new Bus(picket, "java_failover", spec)) {
                listener.blocking().awaitConnected(Duration.ofSeconds(10));
                Worker<String> worker = queues.worker("java:jobs", new WorkerOptions(), delivery -> {
                    handled.add(delivery.getMessage());
                    return HandlerResult.success();
                });
                service.blocking().register(Adder.class, (a, b) -> a + b);
                BusServer server = service.blocking().serve("*", 1, false);
                Adder adder = caller.proxy(Adder.class);

                for (String phase : new String[] {"before", "after"}) {
                    if (phase.equals("after")) {
                        failover.run();
                    }
                    Long written = picket.blocking().withConn(spec, redis -> redis.incr("java:failover"));
                    // Pub/sub is at most once: the listener re-subscribes on the new master a moment after the switch,
                    // so publish until it is heard (each miss is a gap the listener reports).
                    String heard = null;
                    for (int i = 0; i < 200 && heard == null; i++) {
                        pubsub.blocking().publish(spec, "java:news", phase);
                        heard = news.poll(100, TimeUnit.MILLISECONDS);
                    }
                    queues.blocking().enqueue("java:jobs", phase);
                    String job = handled.poll(20, TimeUnit.SECONDS);
                    Long token = locks.blocking().withLock("java:lock", Duration.ofSeconds(5), Duration.ofSeconds(5),
                            lease -> lease.getFencingToken());
                    int sum = adder.add(20, 22);
                    String role = picket.blocking().withConn(spec, redis -> (String) redis.role().get(0));
                    System.out.println(phase + ": INCR -> " + written + " on a " + role + "; heard " + heard
                            + "; handled " + job + "; lock token " + (token > 0) + "; Adder.add -> " + sum);
                    System.out.println("token " + phase + ": " + token);
                }
                worker.blocking().stop(Duration.ofSeconds(5));
                server.blocking().stop(Duration.ofSeconds(5));
            }
        }
    }
}
