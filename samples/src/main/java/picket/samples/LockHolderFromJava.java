package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.lock.BlockingLocks;
import picket.lock.LockHolder;
import picket.lock.LockLease;
import picket.lock.Locks;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The lock members lock/README.md names that LockFromJava does not: who holds a lock ({@code holder}) and a lease
 * extended by hand ({@code extend}), blocking and as a future. Run it with the sentinels' addresses:
 * `LockHolderFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is mymaster).
 */
public final class LockHolderFromJava {
    private LockHolderFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();
            try (Locks locks = new Locks(picket, spec)) {
                BlockingLocks blocking = locks.blocking();
                System.out.println("holder of a free lock: " + blocking.holder("nightly"));
                LockLease lease = blocking.acquire("nightly", Duration.ofSeconds(2), Duration.ZERO);
                LockHolder holder = blocking.holder("nightly");
                System.out.println("holder's token is the lease's: "
                        + (holder.getFencingToken() == lease.getFencingToken()));
                LockLease longer = blocking.extend(lease, Duration.ofMinutes(1));
                System.out.println("extended to a minute: " + longer.getExpiresAt().isAfter(lease.getExpiresAt())
                        + ", same token: " + (longer.getFencingToken() == lease.getFencingToken()));
                LockHolder viaFuture = locks.async().holder("nightly").get();
                System.out.println("remaining now above 2 s: "
                        + (viaFuture.getRemaining().compareTo(Duration.ofSeconds(2)) > 0));
                System.out.println("released: " + blocking.release(longer));
                System.out.println("holder after release: " + blocking.holder("nightly"));
            }
        }
    }
}
