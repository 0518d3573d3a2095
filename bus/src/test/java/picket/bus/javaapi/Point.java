package picket.bus.javaapi;

/** A value as Java code has it: a record, encoded as JSON by the bus. */
public record Point(int x, int y) {
}
