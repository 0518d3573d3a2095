package picket.sentinel

// Types that every mode shares moved to the core module (picket.core) with the engine; these names keep Kotlin code
// that imports them from here compiling. Java code imports them from picket.core.

/** Moved to [picket.core.PicketListener]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.PicketListener"))
public typealias PicketListener = picket.core.PicketListener

/** Moved to [picket.core.Pipeline]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.Pipeline"))
public typealias Pipeline = picket.core.Pipeline

/** Moved to [picket.core.Transaction]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.Transaction"))
public typealias Transaction = picket.core.Transaction

/** Moved to [picket.core.TransactionOutcome]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.TransactionOutcome"))
public typealias TransactionOutcome = picket.core.TransactionOutcome

/** Moved to [picket.core.Picket]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.Picket"))
public typealias Picket = picket.core.Picket

/** Moved to [picket.core.SentinelGroup]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.SentinelGroup"))
public typealias SentinelGroup = picket.core.SentinelGroup

/** Moved to [picket.core.GroupStatus]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.GroupStatus"))
public typealias GroupStatus = picket.core.GroupStatus

/** Moved to [picket.core.RedisPair]. */
@Deprecated("moved to picket.core", ReplaceWith("picket.core.RedisPair"))
public typealias RedisPair = picket.core.RedisPair
