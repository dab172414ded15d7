import LMDB

/// The reads behind receipts and checkpoints (Docs/auditing.md, "Receipts"):
/// events with their stored bytes (what a receipt's reader re-hashes), the
/// hashes of a checkpoint's range (its Merkle leaves), the checkpoint chain,
/// and the trail the ledger resumes at startup.
extension LogReader {
    /// Events by sequence number with their stored values, in one read transaction; absent ones are left out.
    package func stored(_ seqs: [UInt64]) throws -> [(Envelope, [UInt8])] {
        try store.environment.read { txn in
            try seqs.compactMap { seq in
                try Keys.seq(seq).withUnsafeBytes { key in
                    guard let value = try txn.get(store.events, key: key) else { return nil }
                    return (try Envelope.decode(seq: seq, from: value), Array(value))
                }
            }
        }
    }

    /// The chain hashes of events `first` … `first + count - 1`: a checkpoint's leaves.
    package func hashes(from first: UInt64, count: UInt64) throws -> [Hash256] {
        var hashes: [Hash256] = []
        hashes.reserveCapacity(Int(count))
        try forEachStored(from: first) { seq, value in
            guard seq < first + count else { return false }
            guard value.count > Envelope.hashesSize else { throw LogError.corrupt(seq: seq, "the stored value is too short to hold an event") }
            hashes.append(Hash256(loading: value, at: value.count - 32))
            return true
        }
        guard hashes.count == Int(count) else { throw LogError.corrupt(seq: first, "a checkpoint's range is not all in the log") }
        return hashes
    }

    /// The checkpoints from `newest` back to the one covering `seq` (or the
    /// first), newest first, each with its stored value; empty when `newest` does not cover `seq`.
    package func checkpoints(from newest: UInt64, backTo seq: UInt64) throws -> [(Envelope, LedgerCheckpoint, [UInt8])] {
        var chain: [(Envelope, LedgerCheckpoint, [UInt8])] = []
        var next = newest
        while next > seq, let (envelope, value) = try stored([next]).first {
            guard case .ledgerCheckpoint(let checkpoint) = envelope.event else {
                throw LogError.corrupt(seq: next, "a checkpoint names this event as the previous checkpoint, but it is not one")
            }
            chain.append((envelope, checkpoint, value))
            if checkpoint.first <= seq { return chain }
            next = checkpoint.previous
        }
        return []
    }

    /// The checkpoint trail at the log's end: the last checkpoint and the
    /// events after it. Reads the tail newest first, decoding at most
    /// `CheckpointPolicy.maxEvents` events; past that (a log written without
    /// checkpoints) only each event's header, until a checkpoint or the start —
    /// the next checkpoint then covers the newest events only, and links to the last one.
    func checkpointTrail(policy: CheckpointPolicy) throws -> CheckpointTrail {
        var tail: [Envelope] = []
        var checkpoint: Envelope?
        try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var entry = try cursor.last()
                while let (key, value) = entry {
                    guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                    var reader = BinaryReader(value)
                    if try reader.envelopeHeader(seq: seq).type == .ledgerCheckpoint {
                        checkpoint = try Envelope.decode(seq: seq, from: value)
                        return
                    }
                    if tail.count < CheckpointPolicy.maxEvents { tail.append(try Envelope.decode(seq: seq, from: value)) }
                    entry = try cursor.previous()
                }
            }
        }
        var trail = CheckpointTrail(policy: policy)
        if let checkpoint { trail.observe(checkpoint) }
        for envelope in tail.reversed() { trail.observe(envelope) }
        return trail
    }
}
