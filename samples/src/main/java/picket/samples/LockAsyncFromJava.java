package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Durability;
import picket.core.DurabilityException;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.lock.AsyncLocks;
import picket.lock.BlockingLocks;
import picket.lock.LockHolder;
import picket.lock.LockLease;
import picket.lock.LockNotAcquiredException;
import picket.lock.LockOptions;
import picket.lock.Locks;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The lock forms of lock/README.md that LockFromJava does not show: the async {@code withLock}, whose lock is held
 * (and extended by the watchdog) until the stage its block returns completes, and durable acquisition
 * ({@code LockOptions.acquireDurability}), with the typed error when the replicas do not confirm. Run it with the
 * sentinels' addresses: `LockAsyncFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is mymaster).
 */
public final class LockAsyncFromJava {
    private LockAsyncFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            try (Locks locks = new Locks(picket, spec)) {
                AsyncLocks async = locks.async();
                BlockingLocks blocking = locks.blocking();
                // The block starts the work and returns its stage at once; the lock is held until the stage completes.
                CompletableFuture<LockLease> granted = new CompletableFuture<>();
                CompletableFuture<String> export = new CompletableFuture<>();
                CompletableFuture<String> done = async.withLock("export", Duration.ofSeconds(1), Duration.ZERO,
                        lease -> {
                            granted.complete(lease);
                            return export;
                        });
                LockLease lease = granted.get(5, TimeUnit.SECONDS);
                Thread.sleep(1_800); // the export takes longer than the 1 s hold time; the watchdog extends the lease
                LockHolder holder = blocking.holder("export");
                System.out.println("held past its hold time: " + (holder != null
                        && holder.getFencingToken() == lease.getFencingToken()));
                System.out.println("another acquire meanwhile: "
                        + blocking.acquire("export", Duration.ofSeconds(5), Duration.ZERO));
                try {
                    async.withLock("export", Duration.ofSeconds(5), Duration.ZERO,
                            other -> CompletableFuture.completedFuture("never")).get(5, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    System.out.println("another async withLock: " + e.getCause().getClass().getSimpleName()
                            + ": " + e.getCause().getMessage());
                }
                System.out.println("withLockOrNull meanwhile: " + async.withLockOrNull("export", Duration.ofSeconds(5),
                        Duration.ZERO, other -> CompletableFuture.completedFuture("never")).get(5, TimeUnit.SECONDS));
                export.complete("exported");
                System.out.println("withLock -> " + done.get(5, TimeUnit.SECONDS) + ", holder after: "
                        + blocking.holder("export"));
            }

            // Durable acquisition: the lease is handed out once every replica has it.
            LockOptions durable = new LockOptions().acquireDurability(Durability.allReplicas(Duration.ofSeconds(2)));
            try (Locks locks = new Locks(picket, spec, durable)) {
                LockLease lease = locks.blocking().acquire("nightly", Duration.ofSeconds(30), Duration.ZERO);
                ConnSpec replica = ConnSpec.sentinel("main", "mymaster").preferReplica().build();
                List<Object> onReplica = picket.blocking().withConn(replica, redis ->
                        List.of(redis.role().get(0), redis.hget(LockOptions.DEFAULT_PREFIX + "nightly", "owner")));
                System.out.println("durable lease on the " + onReplica.get(0) + " at once: "
                        + lease.getOwner().equals(onReplica.get(1)));
                System.out.println("released: " + locks.blocking().release(lease));
            }
            // Two replicas asked of a master that has one: the acquisition fails, typed, and the lease is released.
            LockOptions tooStrict = new LockOptions().acquireDurability(Durability.replicas(2, Duration.ofMillis(300)));
            try (Locks locks = new Locks(picket, spec, tooStrict)) {
                try {
                    locks.blocking().acquire("nightly", Duration.ofSeconds(30), Duration.ZERO);
                } catch (DurabilityException e) {
                    System.out.println("two replicas asked: DurabilityException, confirmed by " + e.getConfirmed()
                            + " of " + e.getRequired() + "; holder after: " + locks.blocking().holder("nightly"));
                }
            }
        }
    }
}
