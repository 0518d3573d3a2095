package picket.samples;

import picket.core.Address;
import picket.core.Balancers;
import picket.core.ConnSpec;
import picket.core.GroupStatus;
import picket.core.MasterNameUnknownException;
import picket.core.Picket;
import picket.core.PicketEvent;
import picket.core.RedisPair;
import picket.core.SentinelGroup;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The rest of sentinel/README.md from Java: warm-up (an unknown master name fails at startup, typed), TwiceRedis's
 * read/write pair with its sticky replica and disconnect, a group in economy mode, the group's status, and the
 * ROLE sweep of cached masters. Run it with the sentinels' addresses: `PairFromJava 10.0.0.1:26379 10.0.0.2:26379`
 * (the master name is mymaster).
 */
public final class PairFromJava {
    private PairFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels).economy()));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();

            // Warm-up resolves and connects every spec at once: a misspelt master name fails here, not later.
            picket.blocking().warmUp(List.of(spec));
            try {
                picket.blocking().warmUp(List.of(spec, ConnSpec.sentinel("main", "no-such-master").build()));
            } catch (MasterNameUnknownException e) {
                System.out.println("warm-up: MasterNameUnknownException for " + e.getMasterName());
            }

            // The pair: writes on the master, reads on one replica that is kept until the pair is disconnected.
            RedisPair pair = picket.pair(spec, Balancers.random);
            String role = picket.blocking().withConn(pair.getWrite().getSpec(), redis -> {
                redis.set("pair:k", "v");
                return (String) redis.role().get(0);
            });
            picket.blocking().withConn(pair.getRead().getSpec(), redis -> redis.get("pair:k"));
            Address kept = pair.getRead().getNode();
            String readRole = picket.blocking().withConn(pair.getRead().getSpec(),
                    redis -> (String) redis.role().get(0));
            System.out.println("pair: write on the " + role + ", read on a " + readRole
                    + ", same replica again: " + kept.equals(pair.getRead().getNode()));
            pair.disconnect();
            System.out.println("after disconnect: " + pair.getRead().getNode());
            picket.blocking().withConn(pair.getRead().getSpec(), redis -> redis.get("pair:k"));
            System.out.println("replica after the next read: " + (pair.getRead().getNode() != null));

            // The pair's disconnect dropped the cached master too; the next master block resolves it again.
            picket.blocking().withConn(spec, redis -> redis.get("pair:k"));
            GroupStatus status = picket.status("main");
            System.out.println("status: " + status.getSubscriptions().size() + " subscription (economy), master cached "
                    + status.getMasters().containsKey("mymaster"));
            List<PicketEvent.EntryInvalidated> dropped = picket.blocking().removeInvalidResolvedMasterSpecs();
            System.out.println("sweep dropped " + dropped.size() + " masters");
        }
    }
}
