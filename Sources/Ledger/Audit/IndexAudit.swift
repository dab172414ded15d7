import Glibc
import LMDB
import Synchronization

/// Checks the index tables (`by_token`, `by_user`, `by_request`) against the
/// log as one sorted pass per table, not a lookup per event:
/// 1. while the log is walked, `observe` collects each event's expected
///    entries (from `IndexEntries`) compactly — per owner its sequence numbers,
///    which the walk meets in ascending order; the request ids in an arena by
///    sequence number (`ExpectedRequestKeys`);
/// 2. at the end, `finish` walks each table once in key order with a cursor, in
///    the transaction that saw the log's end: the owner tables merged in step
///    with the expected entries (owners sorted, then each one's sequence
///    numbers: the table's own order), `by_request` entry by entry against the
///    id of the event its key names.
///
/// An expected entry not in its table is missing (it hides an event from the
/// dashboard's logs), reported in log order; an entry no event implies is
/// named: it points at a missing event, past the head, or at an event that does
/// not index under that key. The findings are those of a lookup per event and a
/// count per table; the tables are read sequentially, where B-tree lookups
/// by request id land on a random page each.
///
/// The collected entries live in a box shared by the copies of this value:
/// `tally verify` copies its reader into each stretch's task, and a copied
/// value would copy everything collected so far once per stretch. The stretches
/// are read one after another, so the lock is never contended.
package struct IndexAudit: Sendable {
    let store: LedgerStore
    private let expected: ExpectedIndexEntries
    package private(set) var findings = FindingList()

    /// `expectedEvents` sizes the collection up front (0 when unknown).
    package init(store: LedgerStore, expectedEvents: Int = 0) {
        self.store = store
        expected = ExpectedIndexEntries(capacity: expectedEvents)
    }

    /// Records `envelope`'s expected entries; events are observed in log order.
    package func observe(_ envelope: Envelope) {
        let store = self.store
        expected.entries.withLock { entries in
            entries.requests.append(seq: envelope.seq)
            IndexEntries.forEachKey(of: envelope, in: store) { db, key in
                if db == store.byRequest {
                    entries.requests.expect(key)
                } else {
                    let owner = key.loadUnaligned(as: UInt64.self).bigEndian
                    if db == store.byToken {
                        entries.tokens[owner, default: []].append(envelope.seq)
                    } else {
                        entries.users[owner, default: []].append(envelope.seq)
                    }
                }
            }
        }
    }

    /// Compares the tables with the observed events, in the transaction whose
    /// last event `head` is the last one observed. `namingExtras`: whether the
    /// log was walked to its end, so an entry no observed event implies is a
    /// stray (false when the walk stopped at a break: only missing entries are reported).
    package mutating func finish(head: UInt64, in txn: borrowing Transaction, namingExtras: Bool = true) throws {
        var entries = expected.entries.withLock { entries in
            defer { entries = ExpectedIndexEntries.Entries() }
            return entries
        }
        var missing: [(seq: UInt64, table: Int)] = []
        var extras: [(Database, [UInt8])] = []
        for (table, (db, owners)) in [(store.byToken, entries.tokens), (store.byUser, entries.users)].enumerated() {
            try Self.merge(owners, with: db, in: txn, missing: { missing.append((seq: $0, table: table)) }, extra: { extras.append((db, Array($0))) })
        }
        try txn.withCursor(store.byRequest) { cursor in
            var entry = try cursor.first()
            while let (key, _) = entry {
                if !entries.requests.find(key) { extras.append((store.byRequest, Array(key))) }
                entry = try cursor.next()
            }
        }
        missing += entries.requests.unfound().map { (seq: $0, table: 2) }
        missing.sort { ($0.seq, $0.table) < ($1.seq, $1.table) }

        let tables = [store.byToken, store.byUser, store.byRequest]
        for (seq, table) in missing {
            let type = try Keys.seq(seq).withUnsafeBytes { try txn.get(store.events, key: $0) }.flatMap {
                try? Envelope.decode(seq: seq, from: $0).type
            }
            findings.add(.index, seq: seq, "\(type.map { "\($0)" } ?? "event") has no entry in \(tables[table].name)")
        }
        guard namingExtras else { return }
        for (db, key) in extras {
            if let finding = try name(extra: key, in: db, head: head, txn: txn) { findings.add(finding) }
        }
    }

    /// Walks `db`, an owner table, in key order beside `owners`' entries in
    /// the same order, calling `missing` with the sequence number of each
    /// expected entry not there and `extra` with each entry not expected.
    private static func merge(
        _ owners: [UInt64: [UInt64]], with db: Database, in txn: borrowing Transaction,
        missing: (UInt64) -> Void, extra: (UnsafeRawBufferPointer) -> Void
    ) throws {
        let sorted = owners.sorted { $0.key < $1.key }
        var owner = 0, index = 0
        /// Moves to the next expected entry.
        func advance() {
            index += 1
            if index == sorted[owner].value.count { (owner, index) = (owner + 1, 0) }
        }
        try txn.withCursor(db) { cursor in
            var entry = try cursor.first()
            while let (key, _) = entry {
                var found = false
                while owner < sorted.count {
                    let seq = sorted[owner].value[index]
                    var expectedKey = (sorted[owner].key.bigEndian, seq.bigEndian)
                    let order = withUnsafeBytes(of: &expectedKey) { Self.order(key, $0) }
                    if order < 0 { break }
                    if order == 0 {
                        found = true
                        advance()
                        break
                    }
                    missing(seq)
                    advance()
                }
                if !found { extra(key) }
                entry = try cursor.next()
            }
        }
        while owner < sorted.count {
            missing(sorted[owner].value[index])
            advance()
        }
    }

    /// LMDB's default key order: bytes compared, then the shorter key first.
    private static func order(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        let bytes = common == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, common))
        return bytes != 0 ? bytes : a.count - b.count
    }

    /// What is wrong with `key`, an entry of `db` that no observed event implies
    /// (nil when the event it names does not decode: that is the decode check's finding).
    private func name(extra key: [UInt8], in db: Database, head: UInt64, txn: borrowing Transaction) throws -> AuditFinding? {
        guard key.count >= 8 else {
            return AuditFinding(.index, "\(db.name) holds a key of \(key.count) bytes, too short to name an event")
        }
        let seq = key.withUnsafeBytes { Keys.trailingSeq($0) }
        if seq == 0 || seq > head {
            return AuditFinding(.index, seq: seq, "\(db.name) has an entry for event \(seq), past the log's head \(head)")
        }
        guard let value = try Keys.seq(seq).withUnsafeBytes({ try txn.get(store.events, key: $0) }) else {
            return AuditFinding(.index, seq: seq, "\(db.name) has an entry for event \(seq), which is not in the log")
        }
        guard let envelope = try? Envelope.decode(seq: seq, from: value) else { return nil }
        let owns = IndexEntries.keys(for: envelope, in: store).contains { $0.0 == db && $0.1 == key }
        return owns ? nil : AuditFinding(.index, seq: seq, "\(db.name) has an entry that does not belong to this \(envelope.type) event")
    }
}

/// `IndexAudit`'s collected entries, in one box its copies share.
final class ExpectedIndexEntries: Sendable {
    struct Entries: Sendable {
        /// Per token (per user), the sequence numbers of its events, ascending.
        var tokens: [UInt64: [UInt64]] = [:]
        var users: [UInt64: [UInt64]] = [:]
        var requests = ExpectedRequestKeys()
    }

    let entries: Mutex<Entries>

    init(capacity: Int) {
        entries = Mutex(Entries(requests: ExpectedRequestKeys(capacity: capacity)))
    }
}
