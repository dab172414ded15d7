import LMDB

/// Reading and listing stored snapshots (the `snapshots` database, keyed by seq).
package enum SnapshotStore {
    package static func list(store: LedgerStore) throws -> [UInt64] {
        try store.environment.read { txn in
            try txn.withCursor(store.snapshots) { cursor in
                var seqs: [UInt64] = []
                var entry = try cursor.first()
                while let (key, _) = entry {
                    if let seq = Keys.seq(from: key) { seqs.append(seq) }
                    entry = try cursor.next()
                }
                return seqs
            }
        }
    }

    package static func read(store: LedgerStore, seq: UInt64) throws -> LedgerState {
        try store.environment.read { txn in
            try Keys.seq(seq).withUnsafeBytes { key in
                guard let bytes = try txn.get(store.snapshots, key: key) else { throw LogError.corrupt(seq: seq, "no snapshot at this sequence") }
                do { return try SnapshotCodec.decode(bytes) } catch { throw LogError.corrupt(seq: seq, "snapshot: \(error)") }
            }
        }
    }
}
