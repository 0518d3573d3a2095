package picket.bus.javaapi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A Java-style service interface: registered whole on the bus by one implementation, called through a proxy. */
public interface MathApi {
    int add(int a, int b);

    List<Integer> range(int n);

    Point mid(Point a, Point b);

    List<Point> line(Point from, int steps);

    int divide(int a, int b);

    CompletableFuture<Integer> square(int n);

    /** The name of the thread the implementation runs on. */
    String thread();

    /** Signals {@link MathImpl#entered}, then sleeps [ms] (interruptibly). */
    String sleep(long ms);
}
