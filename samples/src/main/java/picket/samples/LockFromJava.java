package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
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

/** Locks from Java: withLock, a lease held while another caller gives up, release and fencing tokens. */
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
                Long first = locks.withLockBlocking("report", Duration.ofSeconds(5), Duration.ofSeconds(1),
                        LockLease::getFencingToken);
                System.out.println("withLock ran with fencing token " + first);

                LockLease held = locks.acquireBlocking("report", Duration.ofSeconds(5), Duration.ZERO);
                try {
                    locks.withLockBlocking("report", Duration.ofSeconds(5), Duration.ofMillis(100), lease -> "never");
                } catch (LockNotAcquiredException e) {
                    System.out.println("second caller: " + e.getMessage());
                }
                System.out.println("released: " + locks.releaseBlocking(held));
                System.out.println("token increased: " + (held.getFencingToken() > first));
            }
        }
    }
}
