package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.mq.ClearedQueue;
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
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The rest of mq/README.md from Java: a delayed enqueue and its message status, a lease extended by the handler, a
 * worker's metrics, dead letters re-queued, the queue names, a queue cleared, and a list listener that listens as a
 * future until stopped. Run it with the sentinels' addresses: `QueueAdminFromJava 10.0.0.1:26379 10.0.0.2:26379`
 * (the master name is mymaster).
 */
public final class QueueAdminFromJava {
    private QueueAdminFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            MessageQueues<String> queues = MessageQueues.strings(picket, spec);

            // Due in five minutes: it waits in the delayed set, and its status says so.
            queues.blocking().enqueue("invoices", "next month", new EnqueueOptions().id("inv-later")
                    .delay(Duration.ofMinutes(5)));
            MessageInfo<String> later = queues.blocking().messageStatus("invoices", "inv-later");
            System.out.println("messageStatus -> " + later.getState() + ", " + later.getMessage());

            queues.blocking().enqueue("invoices", "paid", new EnqueueOptions().id("inv-1"));
            queues.blocking().enqueue("invoices", "unreadable", new EnqueueOptions().id("inv-2"));
            WorkerOptions options = new WorkerOptions().retry(new RetryPolicy(1, Duration.ZERO));
            Worker<String> worker = queues.worker("invoices", options, delivery -> {
                if (delivery.getMessage().equals("unreadable")) {
                    throw new IllegalArgumentException("cannot parse " + delivery.getId());
                }
                // A slow handler asks for more time before its lease runs out.
                Instant until = delivery.blocking().extendLease(Duration.ofSeconds(30));
                System.out.println("lease extended: " + until.isAfter(Instant.now()));
                return HandlerResult.success();
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            QueueStatus status = queues.blocking().status("invoices");
            while ((status.getDone() < 1 || status.getDead() < 1) && System.nanoTime() < deadline) {
                Thread.sleep(20);
                status = queues.blocking().status("invoices");
            }
            worker.blocking().stop();
            System.out.println("metrics: succeeded " + worker.metrics().getSucceeded() + ", dead-lettered "
                    + worker.metrics().getDeadLettered());
            System.out.println("requeueAllDead -> " + queues.blocking().requeueAllDead("invoices"));
            System.out.println("queueNames -> " + queues.blocking().queueNames());
            ClearedQueue cleared = queues.blocking().clearQueueDeletingAllMessages("invoices");
            System.out.println("cleared: ready " + cleared.getReady() + ", delayed " + cleared.getDelayed());

            // A list listener listening as a future; stop() ends it within its read time.
            LinkedBlockingQueue<String> handled = new LinkedBlockingQueue<>();
            ListListener listener = ListListener.create(picket, spec, "inbox", message -> {
                handled.add(message);
                return message;
            });
            CompletableFuture<Void> listening = listener.async().listen();
            picket.blocking().withConn(spec, redis -> redis.lpush("inbox", "one", "two"));
            System.out.println("listened: " + handled.poll(5, TimeUnit.SECONDS) + ", "
                    + handled.poll(5, TimeUnit.SECONDS));
            listener.stop();
            listening.get(5, TimeUnit.SECONDS);
            System.out.println("stopped: " + !listener.isListening());
        }
    }
}
