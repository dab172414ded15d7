import LMDB

/// Newest-first pages of the request log (the charge events), through the
/// index tables when the query names a token or a user.
///
/// Paging is by sequence number: a cursor is "continue below seq N". Events
/// only ever append above the head, so requests that arrive while someone
/// pages never shift, duplicate or drop a row of later pages.
///
/// Each call is one LMDB read transaction that scans at most `scanBudget`
/// entries; a selective query over a long log therefore returns a short (even
/// empty) page with a cursor instead of holding a reader for minutes. Callers
/// keep going while `next` is non-nil.
extension LogReader {
    static let defaultScanBudget = 20_000

    package struct Page: Sendable {
        package var entries: [LogEntry]
        /// Continue below this sequence number; nil when nothing older can match.
        package var next: UInt64?
    }

    /// Up to `limit` entries matching `query` with seq < `before` (nil: from the head), newest first.
    package func page(_ query: LogQuery, before: UInt64?, limit: Int, scanBudget: Int = defaultScanBudget) throws -> Page {
        precondition(limit > 0 && scanBudget > 0)
        if let requestID = query.requestID { return try page(requestID: requestID, query, before: before, limit: limit) }
        return try store.environment.read { txn in
            var entries: [LogEntry] = []
            var scanned = 0
            var lastSeq: UInt64?
            // Where to walk: one token's index, one user's, or the whole log.
            let (db, prefix): (Database, [UInt8]?) =
                if let token = query.token { (store.byToken, Array(Keys.index(token.raw, 0).prefix(8))) } else if let user = query.user {
                    (store.byUser, Array(Keys.index(user.raw, 0).prefix(8)))
                } else { (store.events, nil) }
            let exhausted: Bool = try txn.withCursor(db) { cursor in
                var entry: Cursor.Entry?
                let start: [UInt8] = if let prefix { prefix + Keys.seq(before ?? UInt64.max) } else { Keys.seq(before ?? UInt64.max) }
                if try cursor.seek(atLeast: start) != nil { entry = try cursor.previous() } else { entry = try cursor.last() }
                while let (key, value) = entry {
                    if let prefix { guard key.count == 16, key.starts(with: prefix) else { return true } }
                    let seq = prefix == nil ? (Keys.seq(from: key) ?? 0) : Keys.trailingSeq(key)
                    if let before, seq >= before { entry = try cursor.previous(); continue }
                    guard scanned < scanBudget else { return false }
                    scanned += 1
                    lastSeq = seq
                    let envelope: Envelope
                    if prefix == nil {
                        envelope = try Envelope.decode(seq: seq, from: value)
                    } else {
                        guard let stored = try event(seq, in: txn) else {
                            throw LogError.corrupt(seq: seq, "indexed but missing from the log")
                        }
                        envelope = stored
                    }
                    // Times never decrease along the log: nothing older can be in range.
                    if let from = query.from, envelope.time < from { return true }
                    if query.matchesEvent(envelope) {
                        let row = try logEntry(envelope, in: txn)
                        if query.matches(row) {
                            entries.append(row)
                            if entries.count > limit { return false }
                        }
                    }
                    entry = try cursor.previous()
                }
                return true
            }
            if entries.count > limit {
                entries.removeLast()
                return Page(entries: entries, next: entries.last!.envelope.seq)
            }
            if exhausted { return Page(entries: entries, next: nil) }
            return Page(entries: entries, next: lastSeq)
        }
    }

    /// One request's rows (a handful at most), through its index: the link from an event to its log row.
    private func page(requestID: String, _ query: LogQuery, before: UInt64?, limit: Int) throws -> Page {
        guard Self.indexable(requestID) else { return Page(entries: [], next: nil) }
        return try store.environment.read { txn in
            var entries: [LogEntry] = []
            try forEachEvent(requestID: requestID, in: txn) { envelope in
                if before.map({ envelope.seq < $0 }) ?? true, query.matchesEvent(envelope) {
                    let row = try logEntry(envelope, in: txn)
                    if query.matches(row) { entries.append(row) }
                }
                return true
            }
            return Page(entries: Array(entries.reversed().prefix(limit)), next: nil)
        }
    }
}
