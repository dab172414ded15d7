import LMDB

/// The read side of the log: the one way to read the `events` database and its
/// index tables (`by_token`, `by_user`, `by_request`) — the management API's
/// pages and event stream, exports, request lookups, time search, and the
/// auditors' raw pass. Key layouts and cursors stay here, so nothing above the
/// ledger needs LMDB.
///
/// A value over the store, usable from any thread: every call is its own read
/// transaction (a consistent snapshot of the log and its indexes, which are
/// written in the same transactions) and never waits for the writer or the
/// `Ledger` actor. The raw pass and the export walk hold theirs for the whole
/// walk; the pages bound theirs by a scan budget.
package struct LogReader: Sendable {
    let store: LedgerStore

    package init(store: LedgerStore) {
        self.store = store
    }

    /// Up to `limit` events with seq > `seq`, oldest first (the audit stream).
    package func events(after seq: UInt64, limit: Int) throws -> [Envelope] {
        precondition(limit >= 0)
        guard seq < UInt64.max, limit > 0 else { return [] }
        return try store.environment.read { txn in
            try txn.withCursor(store.events) { cursor in
                var out: [Envelope] = []
                var entry = try cursor.seek(atLeast: Keys.seq(seq + 1))
                while let (key, value) = entry, out.count < limit {
                    guard let seq = Keys.seq(from: key) else { throw LogError.corrupt(seq: 0, "an event key is not 8 bytes") }
                    out.append(try Envelope.decode(seq: seq, from: value))
                    entry = try cursor.next()
                }
                return out
            }
        }
    }

    /// The durable events of a request, in log order, through `by_request`.
    /// Only exactly `requestID`'s: a key is the id's bytes then 8 sequence
    /// bytes, so a key of this id has exactly the id's length + 8 (ids that
    /// merely start with it, like "abc" for "ab", are longer).
    package func events(requestID: String) throws -> [Envelope] {
        guard Self.indexable(requestID) else { return [] }
        return try store.environment.read { txn in
            var found: [Envelope] = []
            try forEachEvent(requestID: requestID, in: txn) { envelope in
                found.append(envelope)
                return true
            }
            return found
        }
    }

    /// The reservation of a request (its `charge.reserved` event), if durable.
    package func reservation(requestID: String) throws -> ChargeReserved? {
        guard Self.indexable(requestID) else { return nil }
        return try store.environment.read { txn in try reservation(requestID: requestID, in: txn) }
    }

    // MARK: - Inside a transaction

    /// No event was ever indexed under an id that is empty or too long to be an
    /// LMDB key (511 bytes with the 8-byte sequence); LMDB refuses such a seek.
    static func indexable(_ requestID: String) -> Bool {
        let count = requestID.utf8.count
        return count > 0 && count + 8 <= 511
    }

    func reservation(requestID: String, in txn: borrowing Transaction) throws -> ChargeReserved? {
        guard Self.indexable(requestID) else { return nil }
        var reserved: ChargeReserved?
        try forEachEvent(requestID: requestID, in: txn) { envelope in
            if case .chargeReserved(let e) = envelope.event { reserved = e; return false }
            return true
        }
        return reserved
    }

    /// `envelope` as a log row: with its request's reservation unless it is a
    /// settle, which repeats the model and stream flag itself.
    func logEntry(_ envelope: Envelope, in txn: borrowing Transaction) throws -> LogEntry {
        var row = LogEntry(envelope: envelope)
        if case .chargeSettled = envelope.event {
        } else if let id = envelope.event.requestID {
            row.reservation = try reservation(requestID: id, in: txn)
        }
        return row
    }

    /// Calls `body` with each event indexed under exactly `requestID` until it answers false.
    func forEachEvent(requestID: String, in txn: borrowing Transaction, _ body: (Envelope) throws -> Bool) throws {
        let prefix = Array(requestID.utf8)
        try txn.withCursor(store.byRequest) { cursor in
            var entry = try cursor.seek(atLeast: prefix)
            while let (key, _) = entry, key.count == prefix.count + 8, key.starts(with: prefix) {
                let seq = Keys.trailingSeq(key)
                guard let envelope = try event(seq, in: txn) else {
                    throw LogError.corrupt(seq: seq, "indexed under request \(requestID) but missing from the log")
                }
                guard try body(envelope) else { return }
                entry = try cursor.next()
            }
        }
    }

    /// One event by sequence number; nil when absent.
    func event(_ seq: UInt64, in txn: borrowing Transaction) throws -> Envelope? {
        try Keys.seq(seq).withUnsafeBytes { key in
            guard let value = try txn.get(store.events, key: key) else { return nil }
            return try Envelope.decode(seq: seq, from: value)
        }
    }
}

extension LedgerStore {
    /// The one way to read this store's log and indexes.
    package var reader: LogReader { LogReader(store: self) }
}

extension Ledger {
    /// The durable log, read without the actor (see `LogReader`).
    package nonisolated var log: LogReader { store.reader }
}
