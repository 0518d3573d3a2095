package picket.sentinel.testing

/** The plain Lettuce client moved to the test kit, which the other modules' specs, samples and bench share. */
@Deprecated("Moved to the test kit", ReplaceWith("PlainClient", "picket.testkit.PlainClient"))
typealias PlainClient = picket.testkit.PlainClient
