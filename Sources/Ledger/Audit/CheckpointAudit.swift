/// `tally verify`'s check of the `ledger.checkpoint` events, which receipts'
/// proofs stand on: each names the previous checkpoint by sequence number and
/// hash, covers every event from after it up to itself, and holds the Merkle
/// root of exactly those events' hashes. A checkpoint that fails any of these
/// would let a receipt prove nothing, so it is a finding like a broken link.
struct CheckpointAudit: Sendable {
    private(set) var findings = FindingList()
    /// The last checkpoint; nil on a pruned log until its first kept one,
    /// whose link and range reach into the archive and are taken as given.
    private var last: (seq: UInt64, hash: Hash256)? = (0, .zero)
    /// Hashes of the events since the last checkpoint (the newest ones only
    /// on a long stretch without any), and the sequence number of the first kept.
    private var leaves: [Hash256] = []
    private var leavesStart: UInt64 = 1

    init() {}

    /// Starts at a log's first event (past 1 once pruned).
    init(first: UInt64) {
        leavesStart = first
        if first > 1 { last = nil }
    }

    mutating func observe(_ envelope: Envelope) {
        guard case .ledgerCheckpoint(let checkpoint) = envelope.event else {
            if leaves.isEmpty { leavesStart = envelope.seq }
            leaves.append(envelope.hash)
            if leaves.count >= 2 * CheckpointPolicy.maxEvents {
                leaves.removeFirst(CheckpointPolicy.maxEvents)
                leavesStart += UInt64(CheckpointPolicy.maxEvents)
            }
            return
        }
        defer {
            last = (envelope.seq, envelope.hash)
            leaves.removeAll(keepingCapacity: true)
        }
        let seq = envelope.seq
        if let last {
            guard checkpoint.previous == last.seq, checkpoint.previousHash == last.hash else {
                findings.add(.checkpoint, seq: seq, "it does not name the previous checkpoint (event \(last.seq)) and its hash")
                return
            }
            guard checkpoint.count >= 1, checkpoint.count <= UInt64(CheckpointPolicy.maxEvents), checkpoint.first + checkpoint.count == seq,
                checkpoint.first > last.seq, checkpoint.first >= leavesStart
            else {
                findings.add(.checkpoint, seq: seq, "it claims events \(checkpoint.first)…+\(checkpoint.count), not a range ending just before it")
                return
            }
        } else if checkpoint.first < leavesStart || checkpoint.first + checkpoint.count != seq {
            // A pruned log's first checkpoint: its link and range reach into the archive.
            return
        }
        guard MerkleTree.root(Array(leaves.suffix(Int(checkpoint.count)))) == checkpoint.root else {
            findings.add(.checkpoint, seq: seq, "its Merkle root is not the root of events \(checkpoint.first)…\(seq - 1)")
            return
        }
    }
}
