package picket.samples;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.util.HashedWheelTimer;
import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.PicketClosedException;
import picket.core.PicketEvent;
import picket.core.SentinelGroup;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Two Picket instances (two tenants) on one Lettuce {@code ClientResources}, one of them running the Java code Picket
 * calls (its listeners, an async transaction's block) on the application's own executor
 * ({@code Picket.builder().handlerExecutor}); closed in the order sentinel/README.md gives ("Threads, shared resources
 * and close"): the instances, then the resources, then their timer, then the executor. Run it with the sentinels'
 * addresses: `SharedResourcesFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is mymaster).
 */
public final class SharedResourcesFromJava {
    private SharedResourcesFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        // A 10 ms tick, as Picket's own resources have, so that command timeouts fire on time.
        HashedWheelTimer timer = new HashedWheelTimer(10, TimeUnit.MILLISECONDS);
        ClientResources resources = DefaultClientResources.builder().timer(timer).build();
        AtomicInteger threads = new AtomicInteger();
        ExecutorService handlers = Executors.newFixedThreadPool(2, task -> {
            Thread thread = new Thread(task, "app-handler-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });

        CompletableFuture<String> listenerThread = new CompletableFuture<>();
        Picket orders = Picket.builder()
                .clientResources(resources)
                .handlerExecutor(handlers)
                .sentinelGroup("main", new SentinelGroup(sentinels))
                .listener(event -> {
                    if (event instanceof PicketEvent.MasterResolved) {
                        listenerThread.complete(Thread.currentThread().getName());
                    }
                })
                .build();
        Picket billing = Picket.builder()
                .clientResources(resources)
                .sentinelGroup("main", new SentinelGroup(sentinels))
                .build();
        ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();

        orders.blocking().withConn(spec, redis -> redis.set("tenant:orders", "1"));
        billing.blocking().withConn(spec, redis -> redis.set("tenant:billing", "2"));
        System.out.println("listener ran on " + listenerThread.get(5, TimeUnit.SECONDS));
        // An async transaction's block waits for its reads: it runs on the handler executor too.
        CompletableFuture<String> blockThread = new CompletableFuture<>();
        orders.async().transaction(spec, List.of("tenant:orders"), tx -> {
            blockThread.complete(Thread.currentThread().getName());
            String seen = tx.getSync().get("tenant:orders");
            tx.multi(redis -> redis.set("tenant:orders:copy", seen));
        }).get(5, TimeUnit.SECONDS);
        System.out.println("async transaction block ran on " + blockThread.get(5, TimeUnit.SECONDS));

        // Closing one instance leaves the shared resources to the other.
        orders.close();
        try {
            orders.blocking().withConn(spec, redis -> redis.get("tenant:orders"));
        } catch (PicketClosedException e) {
            System.out.println("closed instance: PicketClosedException");
        }
        System.out.println("other instance still reads: "
                + billing.blocking().withConn(spec, redis -> redis.mget("tenant:orders", "tenant:billing"))
                        .stream().map(kv -> kv.getValue()).collect(Collectors.toList()));
        billing.close();

        // Then whoever made them shuts them down: the resources, the timer they were given, the executor.
        boolean shutDown = resources.shutdown(0, 2, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        timer.stop();
        System.out.println("executor left running by the instances: " + !handlers.isShutdown());
        handlers.shutdown();
        System.out.println("resources shut down: " + shutDown + ", executor terminated: "
                + handlers.awaitTermination(5, TimeUnit.SECONDS));
    }
}
