package picket.bus.javaapi;

/** Two methods under one bus name: refused at registration. */
public interface Overloaded {
    int f(int a);

    int f(int a, int b);
}
