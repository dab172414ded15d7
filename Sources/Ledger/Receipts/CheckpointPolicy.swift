/// When the ledger writes a `ledger.checkpoint`: after `events` events or
/// once the oldest event not yet covered is `intervalMs` old, whichever comes
/// first. `events` bounds a receipt's Merkle path (log2 of it) and the hashes
/// the ledger keeps in memory (32 bytes each); the interval bounds how long a
/// quiet ledger leaves a request without a proof.
package struct CheckpointPolicy: Sendable, Equatable {
    package var events: Int
    package var intervalMs: Int64

    /// The most events one checkpoint may cover: 1 MiB of hashes in memory, a 16-hash path.
    package static let maxEvents = 65_536
    /// `tally serve`'s default: a path of 12 hashes, and a proof within ten minutes.
    package static let serverDefault = CheckpointPolicy(events: 4096, intervalMs: 600_000)

    package init(events: Int, intervalMs: Int64) {
        precondition((1...CheckpointPolicy.maxEvents).contains(events) && intervalMs > 0, "a checkpoint policy is positive and bounded")
        self.events = events
        self.intervalMs = intervalMs
    }
}

/// The ledger's view of the checkpoint chain: the last checkpoint, and the
/// hashes of the events after it (the leaves of the next one). Lives beside
/// the projections, not in them (a snapshot never holds it): startup reads it
/// back from the log's tail (`LogReader.checkpointTrail`).
struct CheckpointTrail: Sendable {
    let policy: CheckpointPolicy
    private(set) var last: (seq: UInt64, hash: Hash256) = (0, .zero)
    /// The first event the next checkpoint covers, and when it was written.
    private(set) var first: UInt64 = 1
    private(set) var firstTime: Int64 = 0
    private(set) var leaves: [Hash256] = []

    init(policy: CheckpointPolicy) {
        self.policy = policy
    }

    /// Takes in the next event of the log.
    mutating func observe(_ envelope: Envelope) {
        if case .ledgerCheckpoint = envelope.event {
            last = (envelope.seq, envelope.hash)
            first = envelope.seq + 1
            leaves.removeAll(keepingCapacity: true)
            return
        }
        if leaves.isEmpty { (first, firstTime) = (envelope.seq, envelope.time) }
        leaves.append(envelope.hash)
    }

    /// The checkpoint to write now, if one is due.
    func due(now: Int64) -> Event? {
        guard !leaves.isEmpty, leaves.count >= policy.events || now - firstTime >= policy.intervalMs else { return nil }
        return .ledgerCheckpoint(
            LedgerCheckpoint(
                first: first, count: UInt64(leaves.count), root: MerkleTree.root(leaves), previous: last.seq, previousHash: last.hash))
    }
}
