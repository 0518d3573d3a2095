package picket.core.engine

import picket.core.ConnSpec
import picket.core.InternalPicketApi

/**
 * Finds the node a block runs on for one kind of target, and hears how blocks on it went. The block runner (core's
 * `internal/execution/BlockRunner.kt`) asks it at every attempt and knows nothing of Sentinel; the implementations
 * are core's `DirectResolver` (a fixed address) and picket-sentinel's `SentinelResolver` (a master name that a
 * sentinel group follows), registered with [PicketEngine.serve].
 */
@InternalPicketApi
public interface NodeResolver {
    /**
     * The node for a block on [spec], connected: a master (for Sentinel: after any announced failover, checked with
     * ROLE) or a replica. A [picket.core.NodeConnectionException] means nothing was sent, the cached node has been
     * dropped and another attempt may find another one; any other error is final.
     */
    public suspend fun acquire(spec: ConnSpec): Lease

    /**
     * Waits while a failover of [lease]'s master is announced, for blocks that run long on one connection: a
     * pipeline before each window, a transaction before `MULTI`.
     */
    public suspend fun awaitSwitch(lease: Lease): Unit = Unit

    /** A block ran on [lease], successfully or not. */
    public fun ran(lease: Lease): Unit = Unit

    /** A block succeeded on [lease] (after its durability wait). */
    public fun succeeded(lease: Lease): Unit = Unit

    /** A block on [lease] failed with [error], which [failure] classifies; it drops what the error proves wrong. */
    public fun failed(
        lease: Lease,
        failure: Failure,
        error: Exception,
    ): Unit = Unit
}
