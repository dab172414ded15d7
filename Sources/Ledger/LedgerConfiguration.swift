import LMDB

/// How the ledger runs; every knob with its reason.
package struct LedgerConfiguration: Sendable {
    package var environment = EnvironmentOptions()
    /// Write a snapshot after this many events (0 = only on demand). Bounds
    /// startup replay to this many events plus the snapshot's decode.
    package var snapshotEvery: UInt64 = 100_000
    /// Snapshots kept; older ones are deleted when a new one is written.
    package var snapshotsKept = 3
    /// The channels' circuit breaker (Docs/routing.md, "Health and suspension").
    package var breaker = BreakerPolicy()
    /// Told each commit's duration and the jobs it carried (group commit), on
    /// the writer's thread: the server records them as histograms. Must be cheap.
    package var commitObserver: (@Sendable (_ nanoseconds: UInt64, _ jobs: Int) -> Void)?
    /// Told each lease grant and each request that waited for or was refused one (cluster mode), on the ledger actor. Must be cheap.
    package var leaseObserver: (@Sendable (LeaseObservation) -> Void)?
    /// `ledger.checkpoint` events for receipts' proofs (Docs/auditing.md, "Receipts"); nil writes none.
    package var checkpoints: CheckpointPolicy?

    package init() {}
}
