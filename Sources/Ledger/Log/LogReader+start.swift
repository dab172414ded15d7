import LMDB

/// Where the log starts. A log `tally prune` cut (Docs/auditing.md,
/// "Pruning closed periods") starts past event 1: the events before its first
/// one live in the closed periods' archives, and the first kept event's
/// previous-hash field is the chain's anchor, the last archived event's hash.
/// Every walk that once began at 1 begins here instead.
extension LogReader {
    package struct Start: Sendable, Equatable {
        /// The first stored event's sequence number (1 unless pruned).
        package var first: UInt64
        /// The hash of event `first - 1`, as the first event records it (zero at event 1).
        package var anchor: Hash256

        /// Whether events before `first` were pruned.
        package var isPruned: Bool { first > 1 }
    }

    /// The log's first event and its anchor; nil for an empty log.
    package func start() throws -> Start? {
        try store.environment.read { txn in try start(in: txn) }
    }

    func start(in txn: borrowing Transaction) throws -> Start? {
        try txn.withCursor(store.events) { cursor in
            guard let (key, value) = try cursor.first() else { return nil }
            guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
            guard value.count > Envelope.hashesSize else { throw LogError.corrupt(seq: seq, "the stored value is too short to hold an event") }
            return Start(first: seq, anchor: Hash256(loading: value, at: value.count - 64))
        }
    }

    /// The chain's hash at `seq`: event `seq`'s own, or the anchor when `seq`
    /// is the pruned event just before the first; nil when the log cannot tell.
    package func chainHash(at seq: UInt64) throws -> Hash256? {
        try store.environment.read { txn in
            if let value = try Keys.seq(seq).withUnsafeBytes({ try txn.get(store.events, key: $0) }) {
                guard value.count > Envelope.hashesSize else { throw LogError.corrupt(seq: seq, "the stored value is too short to hold an event") }
                return Hash256(loading: value, at: value.count - 32)
            }
            guard let kept = try start(in: txn), kept.first == seq &+ 1 else { return nil }
            return kept.anchor
        }
    }
}
