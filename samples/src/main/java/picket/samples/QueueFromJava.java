package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.mq.DeadLetter;
import picket.mq.EnqueueOptions;
import picket.mq.EnqueueResult;
import picket.mq.HandlerResult;
import picket.mq.ListListener;
import picket.mq.MessageQueues;
import picket.mq.QueueEvent;
import picket.mq.QueueStatus;
import picket.mq.RetryPolicy;
import picket.mq.Worker;
import picket.mq.WorkerOptions;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The message queue and the list listener from Java: enqueue, a Java worker, dead letters, a plain LPUSH. */
public final class QueueFromJava {
    private QueueFromJava() {
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            MessageQueues<String> queues = MessageQueues.strings(picket, spec);
            // Warned when more than one message is ready: checked at enqueue, so no worker needs to be running.
            queues.registerListener(event -> {
                if (event instanceof QueueEvent.BacklogHigh) {
                    QueueEvent.BacklogHigh high = (QueueEvent.BacklogHigh) event;
                    System.out.println("backlog: " + high.getSize() + " ready, above " + high.getThreshold());
                }
            });
            AutoCloseable backlogWatch = queues.warnBacklogAbove("reports", 1);

            // blocking(): on this thread; async(): a CompletableFuture. The same names as the Kotlin members.
            EnqueueResult first = queues.blocking().enqueue("reports", "monthly", new EnqueueOptions().id("report-1"));
            System.out.println("enqueue -> " + first.getOutcome());
            System.out.println("again -> " + queues.async()
                    .enqueue("reports", "monthly", new EnqueueOptions().id("report-1")).join().getOutcome());
            queues.blocking().enqueue("reports", "broken");
            backlogWatch.close();

            WorkerOptions options = new WorkerOptions()
                    .concurrency(2)
                    .retry(new RetryPolicy(2, Duration.ofMillis(50)));
            // The handler runs on the instance's handler executor (here kotlinx's IO threads), at most 2 at a time.
            Worker<String> worker = queues.worker("reports", options, delivery -> {
                if (delivery.getMessage().equals("broken")) {
                    throw new IllegalStateException("no template for " + delivery.getMessage());
                }
                System.out.println("handled " + delivery.getId() + " attempt " + delivery.getAttempt());
                return HandlerResult.success();
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            QueueStatus status = queues.blocking().status("reports");
            while ((status.getDone() < 1 || status.getDead() < 1) && System.nanoTime() < deadline) {
                Thread.sleep(20);
                status = queues.blocking().status("reports");
            }
            System.out.println("worker drained: " + worker.blocking().stop(Duration.ofSeconds(5)));
            System.out.println("status: done " + status.getDone() + ", dead " + status.getDead());
            DeadLetter<String> dead = queues.blocking().deadLetters("reports").get(0);
            System.out.println("dead letter: " + dead.getMessage() + " after " + dead.getAttempts() + " attempts: "
                    + dead.getError());

            // Any client can feed a list listener: here a plain LPUSH through blocking().withConn.
            picket.blocking().withConn(spec, redis -> redis.lpush("inbox", "from redis-cli"));
            ListListener listener = ListListener.create(picket, spec, "inbox", message -> message.toUpperCase());
            System.out.println("getMessage -> " + listener.blocking().getMessage());
            System.out.println("getMessage on an empty list -> " + listener.blocking().getMessage());
        }
    }
}
