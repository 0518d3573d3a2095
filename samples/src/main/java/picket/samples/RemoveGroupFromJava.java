package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.core.SentinelGroupUnknownException;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A sentinel group removed at run time (sentinel/README.md, "Groups": {@code removeSentinelGroup}), and what a call
 * on it gives afterwards: {@code SentinelGroupUnknownException}, blocking and as a future, while the other group goes
 * on. Run it with the sentinels' addresses: `RemoveGroupFromJava 10.0.0.1:26379 10.0.0.2:26379` (the master name is
 * mymaster).
 */
public final class RemoveGroupFromJava {
    private RemoveGroupFromJava() {
    }

    public static void main(String[] args) throws Exception {
        List<Address> sentinels = Arrays.stream(args.length > 0 ? args : new String[] {"localhost:26379"})
                .map(Address::parse)
                .collect(Collectors.toList());
        try (Picket picket = new Picket()) {
            // Two names for the same sentinels, as two tenants or two teams would declare them.
            picket.setSentinelGroups(Map.of("orders", new SentinelGroup(sentinels),
                    "reports", new SentinelGroup(sentinels)));
            ConnSpec orders = ConnSpec.sentinel("orders", "mymaster").build();
            ConnSpec reports = ConnSpec.sentinel("reports", "mymaster").build();
            picket.blocking().withConn(reports, redis -> redis.set("reports:last", "monday"));

            System.out.println("removed: " + picket.removeSentinelGroup("reports")
                    + ", again: " + picket.removeSentinelGroup("reports")
                    + ", declared: " + new TreeSet<>(picket.sentinelGroups()));
            try {
                picket.blocking().withConn(reports, redis -> redis.get("reports:last"));
            } catch (SentinelGroupUnknownException e) {
                System.out.println("blocking: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            try {
                picket.async().withConn(reports, redis -> redis.get("reports:last")).get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                System.out.println("future: " + e.getCause().getClass().getSimpleName() + " for group "
                        + ((SentinelGroupUnknownException) e.getCause()).getGroup());
            }
            try {
                picket.status("reports");
            } catch (SentinelGroupUnknownException e) {
                System.out.println("status: " + e.getClass().getSimpleName());
            }
            System.out.println("the other group still serves: "
                    + picket.blocking().withConn(orders, redis -> redis.get("reports:last")));
        }
    }
}
