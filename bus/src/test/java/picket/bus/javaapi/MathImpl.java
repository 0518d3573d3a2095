package picket.bus.javaapi;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** The implementation a Java service registers with {@code bus.blocking().register(MathApi.class, new MathImpl())}. */
public final class MathImpl implements MathApi {
    /** Counted down when {@link #sleep} starts. */
    public final CountDownLatch entered = new CountDownLatch(1);

    @Override
    public int add(int a, int b) {
        return a + b;
    }

    @Override
    public List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().collect(Collectors.toList());
    }

    @Override
    public Point mid(Point a, Point b) {
        return new Point((a.x() + b.x()) / 2, (a.y() + b.y()) / 2);
    }

    @Override
    public List<Point> line(Point from, int steps) {
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            points.add(new Point(from.x() + i, from.y() + i));
        }
        return points;
    }

    @Override
    public int divide(int a, int b) {
        if (b == 0) {
            throw new ArithmeticException("cannot divide " + a + " by zero");
        }
        return a / b;
    }

    @Override
    public CompletableFuture<Integer> square(int n) {
        return CompletableFuture.supplyAsync(() -> n * n);
    }

    @Override
    public String thread() {
        return Thread.currentThread().getName();
    }

    @Override
    public String sleep(long ms) {
        entered.countDown();
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return "slept";
    }
}
