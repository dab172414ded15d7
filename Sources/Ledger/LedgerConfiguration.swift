import LMDB

/// How the ledger runs; every knob with its reason.
public struct LedgerConfiguration: Sendable {
    public var environment = EnvironmentOptions()
    /// Write a snapshot after this many events (0 = only on demand). Bounds
    /// startup replay to this many events plus the snapshot's decode.
    public var snapshotEvery: UInt64 = 100_000
    /// Snapshots kept; older ones are deleted when a new one is written.
    public var snapshotsKept = 3

    public init() {}
}
