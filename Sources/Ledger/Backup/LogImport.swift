import LMDB

/// Writes a log copied from elsewhere — a node's stream in the cluster's
/// PostgreSQL — into an empty data directory: each event exactly as it was
/// stored, after checking that it follows the one before (dense sequence, its
/// previous-hash field, its hash recomputed from its bytes, decodable), with
/// its index entries in the same transaction, as the writer would have
/// written them. Nothing that does not chain is ever written, so the result
/// verifies like the log it came from.
package struct LogImport {
    let store: LedgerStore
    /// The last event written.
    package private(set) var head: (seq: UInt64, hash: Hash256) = (0, .zero)

    /// Refuses a store that already holds events: an import starts a log, never extends one.
    package init(store: LedgerStore) throws {
        guard try store.head().seq == 0 else { throw ImportError.notEmpty }
        self.store = store
    }

    /// Appends `values` (stored events, the next after `head` first) in one
    /// transaction, with the origins of those that a cluster node had copied
    /// from other nodes' streams (`MirrorIndex`), by seq.
    package mutating func append(_ values: [[UInt8]], origins: [UInt64: MirrorIndex.Origin] = [:]) throws {
        var checked: [(Envelope, [UInt8])] = []
        var link = head
        for value in values {
            let seq = link.seq + 1
            let envelope = try value.withUnsafeBytes { raw throws -> Envelope in
                guard let recomputed = Envelope.recomputeHash(seq: seq, stored: raw, previous: link.hash),
                    Hash256(loading: raw, at: raw.count - 64) == link.hash, recomputed == Hash256(loading: raw, at: raw.count - 32)
                else { throw ImportError.broken(seq) }
                return try Envelope.decode(seq: seq, from: raw)
            }
            checked.append((envelope, value))
            link = (seq, envelope.hash)
        }
        let store = self.store
        try store.environment.write { txn in
            for (envelope, value) in checked {
                try txn.put(store.events, key: Keys.seq(envelope.seq), value: value, options: .append)
                for (database, key) in IndexEntries.keys(for: envelope, in: store) { try txn.put(database, key: key, value: []) }
            }
            if let mirror = store.mirror {
                for entry in MirrorIndex.entries(origins) { try txn.put(mirror, key: entry.key, value: entry.value) }
            }
        }
        head = link
    }
}

package enum ImportError: Error, CustomStringConvertible {
    case notEmpty
    case broken(UInt64)

    package var description: String {
        switch self {
        case .notEmpty: "the data directory already holds a ledger: a log is imported only into an empty one"
        case .broken(let seq): "event \(seq) does not follow the one before it (link or hash): nothing from it on was written"
        }
    }
}
