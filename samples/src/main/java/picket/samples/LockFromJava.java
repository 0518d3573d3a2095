package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.lock.BlockingLocks;
import picket.lock.LockLease;
import picket.lock.LockNotAcquiredException;
import picket.lock.Locks;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Locks from Java: withLock on the calling thread (kept by the watchdog past its hold time), a lease held while
 * another caller gives up, release, fencing tokens, and the future form.
 */
public final class LockFromJava {
    private LockFromJava() {
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            try (Locks locks = new Locks(picket, spec)) {
                BlockingLocks blocking = locks.blocking();
                // The block runs on this thread; the watchdog extends the 500 ms lease while it works for 1.2 s.
                Long first = blocking.withLock("report", Duration.ofMillis(500), Duration.ofSeconds(1), lease -> {
                    work(1_200);
                    return lease.getFencingToken();
                });
                System.out.println("withLock ran with fencing token " + first);

                LockLease held = blocking.acquire("report", Duration.ofSeconds(5), Duration.ZERO);
                try {
                    blocking.withLock("report", Duration.ofSeconds(5), Duration.ofMillis(100), lease -> "never");
                } catch (LockNotAcquiredException e) {
                    System.out.println("second caller: " + e.getMessage());
                }
                System.out.println("withLockOrNull while held: "
                        + blocking.withLockOrNull("report", Duration.ofSeconds(5), Duration.ZERO, lease -> "never"));
                System.out.println("released: " + blocking.release(held));
                System.out.println("token increased: " + (held.getFencingToken() > first));

                long viaFuture = locks.async().acquire("report", Duration.ofSeconds(5), Duration.ZERO)
                        .thenCompose(lease -> locks.async().release(lease).thenApply(released -> lease))
                        .get()
                        .getFencingToken();
                System.out.println("async acquire and release, token increased: "
                        + (viaFuture > held.getFencingToken()));
            }
        }
    }

    /** Work that stops when interrupted, as the watchdog does when the lease is lost. */
    private static void work(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("work interrupted", e);
        }
    }
}
