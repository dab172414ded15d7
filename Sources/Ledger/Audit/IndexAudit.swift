import LMDB

/// Checks the index tables (`by_token`, `by_user`, `by_request`) against the
/// log, inside the walk's read transaction:
/// 1. while walking, every event's expected entries (from `IndexEntries`) must
///    be present — a missing entry hides an event from the dashboard's logs;
/// 2. at the end, each table must hold no more entries than the expected ones
///    found present; when it holds more, the table is walked to name every entry that points
///    at a missing event, past the head, or at an event that does not index
///    under that key.
/// Counting first keeps the common, clean case to one `get` per entry and no
/// memory proportional to the log.
package struct IndexAudit {
    let store: LedgerStore
    /// Expected entries of each table that were found present.
    var present: [String: Int] = [:]
    package private(set) var findings = FindingList()

    package init(store: LedgerStore) {
        self.store = store
    }

    var tables: [Database] { [store.byToken, store.byUser, store.byRequest] }

    /// Checks that `envelope`'s index entries are present.
    package mutating func observe(_ envelope: Envelope, in lookups: Lookups) throws {
        try IndexEntries.forEachKey(of: envelope, in: store) { db, key in
            if try lookups.contains(db, key: key) {
                present[db.name, default: 0] += 1
            } else {
                findings.add(.index, seq: envelope.seq, "\(envelope.type) has no entry in \(db.name)")
            }
        }
    }

    /// Compares table sizes with what the log implies; names the extra entries.
    /// `head` is the last sequence number walked.
    package mutating func finish(head: UInt64, in txn: borrowing Transaction) throws {
        for db in tables {
            // Keys are unique, so more entries than the present expected ones means strays.
            if try txn.count(db) > present[db.name] ?? 0 { try findExtras(db, head: head, in: txn) }
        }
    }

    private mutating func findExtras(_ db: Database, head: UInt64, in txn: borrowing Transaction) throws {
        let store = self.store
        var extras: [AuditFinding] = []
        try txn.withCursor(db) { cursor in
            var entry = try cursor.first()
            while let (key, _) = entry {
                if key.count < 8 {
                    extras.append(AuditFinding(.index, "\(db.name) holds a key of \(key.count) bytes, too short to name an event"))
                } else {
                    let seq = Keys.trailingSeq(key)
                    let keyBytes = Array(key)
                    if seq == 0 || seq > head {
                        extras.append(AuditFinding(.index, seq: seq, "\(db.name) has an entry for event \(seq), past the log's head \(head)"))
                    } else if let value = try Keys.seq(seq).withUnsafeBytes({ try txn.get(store.events, key: $0) }) {
                        if let envelope = try? Envelope.decode(seq: seq, from: value) {
                            let owns = IndexEntries.keys(for: envelope, in: store).contains { $0.0 == db && $0.1 == keyBytes }
                            if !owns {
                                extras.append(
                                    AuditFinding(.index, seq: seq, "\(db.name) has an entry that does not belong to this \(envelope.type) event"))
                            }
                        }
                    } else {
                        extras.append(AuditFinding(.index, seq: seq, "\(db.name) has an entry for event \(seq), which is not in the log"))
                    }
                }
                entry = try cursor.next()
            }
        }
        for finding in extras { findings.add(finding) }
    }
}
