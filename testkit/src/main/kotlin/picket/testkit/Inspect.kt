package picket.testkit

/**
 * The shared [PlainClient] with its default settings (no reconnection, a 2 s command timeout), to look at nodes and
 * sentinels without going through the client under test. Its Lettuce client lives as long as the JVM (Lettuce's
 * threads are daemons). A module's particular queries are extension functions on [PlainClient], called on it.
 *
 * ```kotlin
 * Inspect.on(promoted) { it.get("k") } shouldBe "after"
 * Inspect.clientsNamed(sentinel, "picket") shouldBe 1
 * ```
 */
public object Inspect : PlainClient()
