package picket.samples;

import picket.bus.BlockingBus;
import picket.bus.Bus;
import picket.bus.BusServer;
import picket.bus.MethodDefinition;
import picket.bus.MethodInfo;
import picket.bus.RemoteException;
import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/**
 * The RPC bus from Java: a service interface registered whole and called through a typed proxy, methods with explicit
 * definitions, blocking ({@code bus.blocking()}) and future ({@code bus.async()}) calls.
 */
public final class BusFromJava {
    private BusFromJava() {
    }

    /** What a caller declares to call the math service with types: its methods become bus calls. */
    public interface MathApi {
        int sum(int a, int b);

        CompletableFuture<Integer> divide(int a, int b);
    }

    /** A point, as the geometry service takes and returns it. */
    public record Point(int x, int y) {
    }

    /** A service interface, shared by the service and its callers: registered whole, as Geometry.mid, … */
    public interface Geometry {
        Point mid(Point a, Point b);

        List<Point> corners(Point origin, int size);
    }

    /** The service's implementation of {@link Geometry}. */
    public static final class PlaneGeometry implements Geometry {
        @Override
        public Point mid(Point a, Point b) {
            return new Point((a.x() + b.x()) / 2, (a.y() + b.y()) / 2);
        }

        @Override
        public List<Point> corners(Point origin, int size) {
            return List.of(origin, new Point(origin.x() + size, origin.y()),
                    new Point(origin.x() + size, origin.y() + size), new Point(origin.x(), origin.y() + size));
        }
    }

    /** A plain Java service: its public method is registered by reflection, with its parameter names. */
    public static final class Greeter {
        public String greet(String name, int times) {
            return ("hello " + name + " ").repeat(times).trim();
        }
    }

    public static void main(String[] args) throws Exception {
        try (Topology topology = Topology.start(TopologyConfig.builder().replicasPerMaster(1).build());
             Picket picket = new Picket()) {
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            picket.setSentinelGroups(Map.of("main", new SentinelGroup(sentinels)));
            ConnSpec spec = ConnSpec.sentinel("main", "mymaster").build();

            try (Bus service = new Bus(picket, "java_playground", spec, "math_");
                 Bus caller = new Bus(picket, "java_playground", spec)) {
                BlockingBus bus = service.blocking();
                List<String> geometry = bus.register(Geometry.class, new PlaneGeometry());
                System.out.println("registered " + geometry);
                bus.register(
                        MethodDefinition.builder("math_sum").param("a").param("b").cacheKey("{a}/{b}").build(),
                        call -> call.getInt("a") + call.getInt("b"));
                bus.register(
                        MethodDefinition.builder("math_divide").param("a").param("b", 1).build(),
                        call -> {
                            int b = call.getInt("b");
                            if (b == 0) {
                                throw new ArithmeticException("cannot divide by zero");
                            }
                            return call.getInt("a") / b;
                        });
                bus.registerMethod(new Greeter(), "greet");
                BusServer server = bus.serve("*", 2, false);

                for (MethodInfo method : caller.blocking().methods()) {
                    System.out.println("discovered " + method.getName() + " " + method.getParams().stream()
                            .map(p -> p.getName()).collect(Collectors.toList()));
                }
                Geometry plane = caller.proxy(Geometry.class);
                System.out.println("proxy mid -> " + plane.mid(new Point(0, 0), new Point(4, 2)));
                System.out.println("proxy corners -> " + plane.corners(new Point(1, 1), 2));
                System.out.println("sum -> " + caller.blocking().call("math_sum", 2, 3));
                System.out.println("greet -> " + caller.blocking().call("math_greet", List.of("bus", 2)));
                System.out.println("divide by default -> "
                        + caller.blocking().call(Integer.class, "math_divide", List.of(7)));
                System.out.println("divide async -> "
                        + caller.async().call("math_divide", List.of(), Map.of("a", 9, "b", 3)).get());
                try {
                    caller.blocking().call("math_divide", List.of(1, 0), Map.of(), Duration.ofSeconds(5));
                } catch (RemoteException e) {
                    System.out.println("remote error: " + e.getRemoteType() + ": " + e.getRemoteMessage());
                }

                MathApi math = caller.proxy(MathApi.class, "math_");
                System.out.println("proxy sum -> " + math.sum(20, 22));
                try {
                    math.divide(1, 0).get();
                } catch (ExecutionException e) {
                    System.out.println("proxy future failed: " + e.getCause().getClass().getSimpleName());
                }
                CompletableFuture<Void> joined = server.async().join();
                System.out.println("server drained: " + server.blocking().stop(Duration.ofSeconds(5)));
                System.out.println("server joined: " + joined.get());
                System.out.println("cleanup deleted keys: " + (caller.blocking().cleanup() > 0));
            }
        }
    }
}
