package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Durability;
import picket.core.DurabilityException;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.mq.EnqueueOptions;
import picket.mq.HandlerResult;
import picket.mq.ListListener;
import picket.mq.MessageInfo;
import picket.mq.MessageQueues;
import picket.mq.QueueStatus;
import picket.mq.RetryPolicy;
import picket.mq.Worker;
import picket.mq.WorkerOptions;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The enqueue options and repairs of mq/README.md from Java: a durable enqueue (confirmed by the replicas, and the
 * typed error when too few confirm), {@code update}, {@code debounce} and {@code requeue} of a message with the same
 * id, dead letters re-queued by id ({@code requeueDead}), and a list listener's {@code recover} of what a crashed
 * listener left in its processing list. Run it with the sentinels' addresses:
 * `QueueOptionsFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is mymaster).
 */
public final class QueueOptionsFromJava {
    private QueueOptionsFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            MessageQueues<String> queues = MessageQueues.strings(picket, spec);

            // Durable: the enqueue returns once every replica has the message, so a replica read finds it at once.
            EnqueueOptions durable = new EnqueueOptions().id("o-1")
                    .durable(Durability.allReplicas(Duration.ofSeconds(2)));
            System.out.println("durable enqueue -> "
                    + queues.blocking().enqueue("orders", "order 1", durable).getOutcome());
            ConnSpec replica = ConnSpec.sentinel("main", "mymaster").preferReplica().build();
            List<Object> onReplica = picket.blocking().withConn(replica, redis ->
                    List.of(redis.role().get(0), redis.hget("picket:mq:{orders}:m:o-1", "payload")));
            System.out.println("on the " + onReplica.get(0) + " at once: " + onReplica.get(1));
            try {
                queues.blocking().enqueue("orders", "order 2",
                        new EnqueueOptions().id("o-2").durable(Durability.replicas(2, Duration.ofMillis(300))));
            } catch (DurabilityException e) {
                System.out.println("two replicas asked: DurabilityException, confirmed by " + e.getConfirmed() + " of "
                        + e.getRequired() + "; queued all the same: "
                        + queues.blocking().messageStatus("orders", "o-2").getState());
            }

            // A waiting message with the same id: de-duplicated, updated, or its delay restarted (debounce).
            EnqueueOptions greet = new EnqueueOptions().id("greet").delay(Duration.ofMinutes(1));
            queues.blocking().enqueue("greetings", "hello", greet);
            System.out.println("same id again -> " + queues.blocking().enqueue("greetings", "hi", greet).getOutcome());
            System.out.println("update -> " + queues.blocking().enqueue("greetings", "hi", greet.update()).getOutcome()
                    + ", message now " + queues.blocking().messageStatus("greetings", "greet").getMessage());
            MessageInfo<String> before = queues.blocking().messageStatus("greetings", "greet");
            System.out.println("debounce -> " + queues.blocking().enqueue("greetings", "hi",
                    greet.delay(Duration.ofMinutes(10)).debounce()).getOutcome() + ", due about 9 minutes later: "
                    + (Duration.between(before.getDue(), queues.blocking().messageStatus("greetings", "greet").getDue())
                    .compareTo(Duration.ofMinutes(8)) > 0));

            // A message being handled: run again after this handling with requeue, else left alone.
            LinkedBlockingQueue<String> handled = new LinkedBlockingQueue<>();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            Worker<String> jobs = queues.worker("jobs", new WorkerOptions(), delivery -> {
                started.countDown();
                try {
                    proceed.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("handler interrupted", e);
                }
                handled.add(delivery.getMessage());
                return HandlerResult.success();
            });
            queues.blocking().enqueue("jobs", "rebuild v1", new EnqueueOptions().id("rebuild"));
            started.await(10, TimeUnit.SECONDS);
            EnqueueOptions rebuild = new EnqueueOptions().id("rebuild");
            System.out.println("while handled -> " + queues.blocking().enqueue("jobs", "x", rebuild).getOutcome()
                    + ", with requeue -> "
                    + queues.blocking().enqueue("jobs", "rebuild v2", rebuild.requeue().update()).getOutcome());
            proceed.countDown();
            System.out.println("handled: " + handled.poll(10, TimeUnit.SECONDS) + ", then "
                    + handled.poll(10, TimeUnit.SECONDS));
            jobs.blocking().stop();

            // Dead letters re-queued by id: attempts reset, last error kept.
            WorkerOptions once = new WorkerOptions().retry(new RetryPolicy(1, Duration.ZERO));
            Worker<String> imports = queues.worker("imports", once, delivery -> {
                throw new IllegalArgumentException("bad row in " + delivery.getId());
            });
            queues.blocking().enqueue("imports", "file 1", new EnqueueOptions().id("imp-1"));
            queues.blocking().enqueue("imports", "file 2", new EnqueueOptions().id("imp-2"));
            await(() -> queues.blocking().status("imports"), status -> status.getDead() == 2);
            imports.blocking().stop();
            System.out.println("requeueDead([imp-1, imp-9]) -> "
                    + queues.blocking().requeueDead("imports", List.of("imp-1", "imp-9")));
            MessageInfo<String> back = queues.blocking().messageStatus("imports", "imp-1");
            QueueStatus imported = queues.blocking().status("imports");
            System.out.println("imp-1 " + back.getState() + ", attempts " + back.getAttempts() + ", last error "
                    + back.getLastError() + "; ready " + imported.getReady() + ", dead " + imported.getDead());

            // What a crashed listener left in its processing list, handled on demand, oldest first.
            List<String> recovered = new CopyOnWriteArrayList<>();
            ListListener uploads = ListListener.create(picket, spec, "uploads", message -> {
                recovered.add(message);
                return message;
            });
            picket.blocking().withConn(spec, redis -> redis.lpush(uploads.getProcessingList(), "left 1", "left 2"));
            System.out.println("recover -> " + uploads.blocking().recover() + ": " + recovered + ", processing left "
                    + picket.blocking().withConn(spec, redis -> redis.llen(uploads.getProcessingList())));
        }
    }

    /** Reads {@code read} until {@code done} holds, for ten seconds at most; returns the last value read. */
    private static <T> T await(Supplier<T> read, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        T value = read.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            value = read.get();
        }
        return value;
    }
}
